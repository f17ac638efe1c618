# tools/deps.sh - sourced by tools/demo.sh and tools/test.sh: installs the
# Debian packages ticklake needs to build and test, only those missing.
# apt-get runs only when something is missing (as root, or through sudo).

TL_PACKAGES=(
    build-essential cmake pkg-config
    clang libclang-rt-14-dev # libFuzzer + ASan/UBSan runtimes (tools/test.sh fuzz stage)
    libzstd-dev libxxhash-dev liburing-dev libjansson-dev
    libsnappy-dev zlib1g-dev liblz4-dev libbrotli-dev # Parquet codecs
    libcriterion-dev
    python3 # the CLI tests check JSON output with it
    faketime # tests/cli/kill9_test.sh runs log cleanups two hours ahead (libfaketime)
)

tl_install_deps() {
    local missing=() p
    for p in "${TL_PACKAGES[@]}"; do
        if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
            missing+=("$p")
        fi
    done
    if [ "${#missing[@]}" -eq 0 ]; then
        echo "deps: all ${#TL_PACKAGES[@]} packages present"
        return 0
    fi
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            sudo=(sudo)
        else
            echo "deps: missing packages: ${missing[*]}" >&2
            echo "deps: run as root or install sudo" >&2
            return 1
        fi
    fi
    echo "deps: installing ${missing[*]}"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
        --no-install-recommends "${missing[@]}"
}

# Node.js + npm for the interop tests, from Debian when the machine has none.
tl_install_node() {
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || return 1
        sudo=(sudo)
    fi
    echo "deps: installing nodejs npm"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
            --no-install-recommends nodejs npm
}
