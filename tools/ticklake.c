/* ticklake.c - the CLI (skeleton; see issue 2). */
#include "ticklake.h"

#include <stdio.h>

int main(void)
{
    printf("ticklake %s\n", tl_version());
    return 0;
}
