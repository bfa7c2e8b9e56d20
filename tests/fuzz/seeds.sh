#!/bin/sh
# Gathers seed corpora for the fuzz targets from the shared fixtures, at run
# time (never copied into the repository):
#   tests/fuzz/seeds.sh FIXTURES OUTDIR
# fills OUTDIR/model (every .h5/.hdf5/.keras file), OUTDIR/config (config.json
# of the .keras archives and the model_config JSON of the .h5 files),
# OUTDIR/input (.npy files, and a few literals and CSV texts) and
# OUTDIR/slice (spec strings, behind the shape byte fuzz_slice reads).
set -e
fixtures=$1 out=$2
if [ ! -d "$fixtures" ] || [ -z "$out" ]; then
	echo "usage: seeds.sh FIXTURES OUTDIR (fixtures: ../shared/fixtures)" >&2
	exit 2
fi
mkdir -p "$out/model" "$out/config" "$out/input" "$out/slice"
n=0
find "$fixtures" -type f \( -name '*.h5' -o -name '*.hdf5' -o -name '*.keras' \) -size -4M |
while read -r f; do
	n=$((n + 1))
	cp "$f" "$out/model/m$n"
	case "$f" in
	*.keras) unzip -p "$f" config.json >"$out/config/c$n" 2>/dev/null || rm -f "$out/config/c$n" ;;
	*) # the model_config attribute: the longest JSON object among the strings
		strings -n 64 "$f" | grep '^{"class_name"' | head -n 1 >"$out/config/c$n" || true
		[ -s "$out/config/c$n" ] || rm -f "$out/config/c$n" ;;
	esac
done
find "$fixtures" -type f -name '*.npy' -size -256k | head -n 200 | while read -r f; do
	cp "$f" "$out/input/$(echo "$f" | cksum | cut -d' ' -f1).npy"
done
printf '[[5.1, 3.5, 1.4, 0.2]]' >"$out/input/lit1"
printf '[[[1, 2], [3, 4]], [[5, 6], [7, 8]]]' >"$out/input/lit2"
printf '1,2,3\n4,5,6\n' >"$out/input/csv1"
printf 'a,b\r\n1.5,-2e3\r\n' >"$out/input/csv2"
i=0
for spec in '[0,:,:,3]' '0:10,5' '-1' '..., 0' ':, 1:3' '[1]' '2:' ':-1, ...'; do
	i=$((i + 1))
	printf '!%s' "$spec" >"$out/slice/s$i" # '!' (33): rank 3, shape (4, 7, 2) in fuzz_slice
done
echo "seeds: $(ls "$out/model" | wc -l) models, $(ls "$out/config" | wc -l) configs," \
	"$(ls "$out/input" | wc -l) inputs, $(ls "$out/slice" | wc -l) slices in $out"
