/* fuzz_input: libFuzzer target for the predict inputs: the same bytes as a
 * literal ('[[1, 2], [3, 4]]'), as CSV text and as a .npy file, then fitted
 * to a shape taken from the first bytes (ks_input_fit, as predict does). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ks_input.h"
#include "ks_npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fit(ks_array *a, const uint8_t *data, size_t size)
{
	ks_shape want = {.rank = size > 0 ? 1 + data[0] % 4 : 1};
	ks_err err;

	want.d[0] = -1;
	for (int i = 1; i < want.rank; i++)
		want.d[i] = size > (size_t)i ? 1 + data[i] % 8 : 2;
	ks_input_fit(a, &want, true, "x", &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	ks_array a;
	ks_err err;

	memcpy(text, data, size);
	text[size] = '\0';
	if (ks_input_parse_literal(text, &a, &err) == 0) {
		fit(&a, data, size);
		ks_array_free(&a);
	}
	if (ks_input_parse_csv(text, size, "fuzz.csv", &a, &err) == 0) {
		fit(&a, data, size);
		ks_array_free(&a);
	}
	if (ks_npy_parse(data, size, "fuzz.npy", &a, &err) == 0) {
		fit(&a, data, size);
		ks_array_free(&a);
	}
	free(text);
	return 0;
}
