/* fuzz_slice: libFuzzer target for --slice specifications: the first byte
 * picks a weight shape (rank 0 to 4, dimensions 0 to 7), the rest is the
 * spec; a parsed slice is measured and printed back (ks_slice_shape,
 * ks_slice_str), as dump does. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ks_slice.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t shape[KS_MAX_RANK], out[KS_MAX_RANK];
	int rank;
	ks_slice s;
	ks_err err;
	char buf[256];
	char *spec;

	if (size < 1)
		return 0;
	rank = data[0] % 5;
	for (int i = 0; i < rank; i++)
		shape[i] = ((data[0] >> 3) + 3 * i) % 8;
	spec = malloc(size);
	memcpy(spec, data + 1, size - 1);
	spec[size - 1] = '\0';
	if (ks_slice_parse(spec, shape, rank, &s, &err) == 0) {
		ks_slice_shape(&s, out);
		ks_slice_str(&s, shape, buf, sizeof buf);
	}
	free(spec);
	return 0;
}
