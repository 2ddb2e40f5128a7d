# Free TCP ports for the servers the scripts and tests start; sourced, not run.
#
# A port handed to a server must lie outside the kernel's ephemeral range
# (/proc/sys/net/ipv4/ip_local_port_range): a port in that range that is free when checked
# can be taken a moment later by any outgoing connection on the machine (its local port),
# and the server then fails to start. Outside the range only a listener can take it, and a
# listener is seen by the check.
#
# A server that is stopped and started again on its port (a test's crash and recovery)
# is not listening in between: so a port handed out is also reserved, by a file
# $PORTS_DIR/<port> naming its owner, a path that exists as long as the owner holds the port
# (a data directory, a temporary directory, /proc/<pid> of a test process). A reservation
# whose owner is gone is stale and taken over. The tests' side is
# crates/customer-api/tests/common/ports.rs.
#
#   ephemeral_range       prints "LOW HIGH" (Linux's default when /proc does not tell)
#   port_is_ephemeral P   true when P lies in that range
#   port_listened P       true when something accepts connections on 127.0.0.1:P
#   port_usable P [OWNER] P is outside the range, nobody listens on it, and no owner but
#                         OWNER holds it
#   reserve_port P OWNER  holds P for OWNER; false when another live owner holds it
#   release_port P OWNER  gives P up, if OWNER holds it
#   free_ports N [OWNER]  prints the first of N consecutive usable ports, starting at a
#                         random place outside the range (so that concurrent callers
#                         rarely meet), reserved for OWNER when given

PORTS_DIR=${CUSTOMER_API_PORTS_DIR:-/tmp/customer-api-ports}

ephemeral_range() {
    local low=32768 high=60999 range
    if range=$(cat /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null) &&
        [[ $range =~ ^[[:space:]]*([0-9]+)[[:space:]]+([0-9]+)[[:space:]]*$ ]]; then
        low=${BASH_REMATCH[1]}
        high=${BASH_REMATCH[2]}
    fi
    printf '%s %s\n' "$low" "$high"
}

port_is_ephemeral() {
    local low high
    read -r low high < <(ephemeral_range)
    (($1 >= low && $1 <= high))
}

port_listened() { (exec 8<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

port_reserved_elsewhere() { # by a live owner other than $2
    local owner
    owner=$(cat -- "$PORTS_DIR/$1" 2>/dev/null) || return 1
    [[ -n $owner && $owner != "${2:-}" && -e $owner ]]
}

port_usable() {
    (($1 >= 1024 && $1 <= 65535)) && ! port_is_ephemeral "$1" && ! port_listened "$1" &&
        ! port_reserved_elsewhere "$1" "${2:-}"
}

reserve_port() {
    local file=$PORTS_DIR/$1
    if [[ ! -d $PORTS_DIR ]]; then
        mkdir -p -- "$PORTS_DIR" && chmod 1777 -- "$PORTS_DIR" 2>/dev/null
    fi
    (set -o noclobber && printf '%s\n' "$2" >"$file") 2>/dev/null && return 0
    port_reserved_elsewhere "$1" "$2" && return 1
    printf '%s\n' "$2" >"$file" # ours already, or stale: taken over
}

release_port() {
    if [[ $(cat -- "$PORTS_DIR/$1" 2>/dev/null) == "$2" ]]; then rm -f -- "$PORTS_DIR/$1"; fi
    return 0
}

free_ports() {
    local count=${1:-1} owner=${2:-} low high first last span start p i ok tries
    read -r low high < <(ephemeral_range)
    # The larger of the two gaps around the range, above the privileged ports.
    if ((low - 10000 >= 65535 - high)); then
        first=10000 last=$((low - 1))
    else
        first=$((high + 1)) last=65535
    fi
    ((first < 1024)) && first=1024
    span=$((last - first + 1 - count + 1))
    ((span > 0)) || {
        printf 'ports.sh: no room for %s ports outside the ephemeral range %s-%s\n' "$count" "$low" "$high" >&2
        return 1
    }
    start=$((first + (RANDOM * 32768 + RANDOM) % span))
    for ((tries = 0; tries < span; tries++)); do
        p=$((first + (start - first + tries) % span))
        ok=1
        for ((i = 0; i < count; i++)); do
            if ! port_usable $((p + i)) "$owner"; then
                ok=0
                break
            fi
        done
        if ((ok)) && [[ -n $owner ]]; then
            for ((i = 0; i < count; i++)); do
                if ! reserve_port $((p + i)) "$owner"; then
                    ok=0
                    break
                fi
            done
            if ((!ok)); then
                for ((i = 0; i < count; i++)); do release_port $((p + i)) "$owner"; done
            fi
        fi
        if ((ok)); then
            printf '%s\n' "$p"
            return 0
        fi
    done
    printf 'ports.sh: no %s free consecutive ports outside the ephemeral range %s-%s\n' "$count" "$low" "$high" >&2
    return 1
}
