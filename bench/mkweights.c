/* mkweights: a long Dense chain as save_weights() writes it, with its
 * architecture, for timing --config and --load-order by hand (bench/README):
 *
 *   bench/mkweights N OUT.h5 ARCH.json
 *
 * N Dense(4) layers on 4 inputs; layer_names lists the last two layers
 * swapped, so that the two load orders disagree on them.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "../tests/h5_build.h"

int main(int argc, char **argv)
{
	int n = argc == 4 ? atoi(argv[1]) : 0;
	FILE *a;
	hid_t f;
	char **ln;
	static const hsize_t shapes[2][4] = {{4, 4}, {4}};

	if (n < 2) {
		fputs("usage: mkweights N OUT.h5 ARCH.json\n", stderr);
		return 2;
	}
	a = fopen(argv[3], "w");
	if (!a)
		return 2;
	fputs("{\"class_name\": \"Sequential\", \"config\": {\"name\": \"chain\", \"layers\": [", a);
	for (int i = 0; i < n; i++)
		fprintf(a, "%s{\"class_name\": \"Dense\", \"config\": {\"name\": \"d%d\", \"units\": 4%s}}",
		        i ? ", " : "", i, i ? "" : ", \"batch_input_shape\": [null, 4]");
	fputs("]}, \"keras_version\": \"2.13.1\"}", a);
	fclose(a);
	ln = calloc((size_t)n, sizeof *ln);
	for (int i = 0; i < n; i++) {
		ln[i] = malloc(32);
		snprintf(ln[i], 32, "d%d", i == n - 1 ? n - 2 : i == n - 2 ? n - 1 : i);
	}
	f = hb_create(argv[2]);
	/* Keras splits attributes beyond HDF5's 64 KB header limit into
	 * layer_names0, layer_names1, ... */
	for (int c = 0; c * 2000 < n; c++) {
		char an[32];
		snprintf(an, sizeof an, "layer_names%d", c);
		hb_attr_strv(f, n > 2000 ? an : "layer_names", (const char *const *)ln + c * 2000,
		             n - c * 2000 < 2000 ? n - c * 2000 : 2000, true);
	}
	hb_attr_str(f, "keras_version", "2.13.1", false, 0, H5T_STR_NULLTERM);
	for (int i = 0; i < n; i++) {
		char g[32], k[48], b[48];
		const char *wn[2] = {k, b};
		snprintf(g, sizeof g, "d%d", i);
		snprintf(k, sizeof k, "d%d/kernel:0", i);
		snprintf(b, sizeof b, "d%d/bias:0", i);
		hb_layer(f, g, wn, 2, shapes);
	}
	H5Fclose(f);
	for (int i = 0; i < n; i++)
		free(ln[i]);
	free(ln);
	return 0;
}
