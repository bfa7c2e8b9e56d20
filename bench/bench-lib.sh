# Shared by the bench/*.sh scripts (sourced, not run). Before sourcing, set
# top (the source tree), data (the folder for big files) and runs.

# bench_binary NAME [KERASCOPE]: prints the binary to time (the one given,
# else ./kerascope, else build-*/kerascope), or fails naming the script.
bench_binary() {
	name=$1 ks=${2:-}
	if [ -z "$ks" ]; then
		for c in ./kerascope "$top"/build-*/kerascope; do
			[ -x "$c" ] && { ks=$c; break; }
		done
	fi
	[ -x "$ks" ] || { echo "$name: no kerascope binary (give its path)" >&2; return 2; }
	[ -x /usr/bin/time ] || { echo "$name: GNU time missing (apt-get install time)" >&2; return 2; }
	case "$(cd "$(dirname "$data")" 2>/dev/null && pwd)/" in
	"$top"/*) echo "$name: DATADIR must be outside the repository" >&2; return 2 ;;
	esac
	echo "$ks"
}

# median wall time in ms of `$@` over $runs runs (output and status ignored)
wall() {
	i=0
	: >"$data/.times"
	while [ $i -lt "$runs" ]; do
		t0=$(date +%s%N)
		"$@" >/dev/null 2>&1 || true
		t1=$(date +%s%N)
		echo $(((t1 - t0) / 1000)) >>"$data/.times"
		i=$((i + 1))
	done
	sort -n "$data/.times" | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'
}

# mean CPU time (user + system) in ms over $runs runs: unlike wall time, it
# does not grow when other processes compete for the CPUs.
cpu() {
	i=0
	: >"$data/.cpu"
	while [ $i -lt "$runs" ]; do
		/usr/bin/time -f "%U %S" "$@" 2>&1 >/dev/null | tail -1 >>"$data/.cpu" || true
		i=$((i + 1))
	done
	awk '{s += $1 + $2} END {printf "%.1f", s * 1000 / NR}' "$data/.cpu"
}

# peak RSS in MB (largest of 3 runs)
rss() {
	best=0
	for _ in 1 2 3; do
		k=$(/usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1) || true
		[ "$k" -gt "$best" ] && best=$k
	done
	awk -v k="$best" 'BEGIN {printf "%.1f", k/1024}'
}
