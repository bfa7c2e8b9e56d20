/* mkmodels: writes the small models the inspector's screen tests need and
 * the repository does not ship, with the HDF5 C API (tests/h5_build.h):
 *
 *   DIR/siamese.h5  legacy tf.keras 2.8 full save of a functional model whose
 *                   nested Functional "inner" (Dense + BatchNormalization) is
 *                   called on two inputs, followed by a shared Dense called
 *                   twice and an Add: nested, shared and functional at once.
 *                   Weight values are 0, 1, 2, ... in each dataset.
 *   DIR/hostile.h5  a weights-only file whose layer is named with a terminal
 *                   title sequence, a bell and a newline ("x\n\e]0;T\a"):
 *                   the inspector must show it escaped.
 *
 * Usage: mkmodels DIR. Without DIR (as `make check` runs it) it writes into
 * a temporary folder and checks, through the loader, that the model is what
 * the screen tests expect: 5 layers, "inner" nested and called twice,
 * "shared" called twice, 42 parameters (3*4+4 + 4*4 BN + 4*2+2).
 * Exit status 0, or 1 with a message. */
#include "config.h"

#include <stdio.h>

#include "../h5_build.h"
#include "ks_model.h"
#include "../ks_test.h"

static const char *SIAMESE =
	"{\"class_name\": \"Functional\", \"config\": {\"name\": \"siamese\", \"layers\": ["
	"{\"class_name\": \"InputLayer\", \"name\": \"in_a\", \"config\": {\"name\": \"in_a\", \"batch_input_shape\": [null, 3]}, \"inbound_nodes\": []},"
	"{\"class_name\": \"InputLayer\", \"name\": \"in_b\", \"config\": {\"name\": \"in_b\", \"batch_input_shape\": [null, 3]}, \"inbound_nodes\": []},"
	"{\"class_name\": \"Functional\", \"name\": \"inner\", \"config\": {\"name\": \"inner\", \"layers\": ["
	"  {\"class_name\": \"InputLayer\", \"name\": \"inner_in\", \"config\": {\"name\": \"inner_in\", \"batch_input_shape\": [null, 3]}, \"inbound_nodes\": []},"
	"  {\"class_name\": \"Dense\", \"name\": \"inner_dense\", \"config\": {\"name\": \"inner_dense\", \"units\": 4, \"activation\": \"linear\", \"use_bias\": true}, \"inbound_nodes\": [[[\"inner_in\", 0, 0, {}]]]},"
	"  {\"class_name\": \"BatchNormalization\", \"name\": \"inner_bn\", \"config\": {\"name\": \"inner_bn\", \"axis\": -1, \"epsilon\": 0.001, \"center\": true, \"scale\": true}, \"inbound_nodes\": [[[\"inner_dense\", 0, 0, {}]]]}],"
	"  \"input_layers\": [[\"inner_in\", 0, 0]], \"output_layers\": [[\"inner_bn\", 0, 0]]},"
	" \"inbound_nodes\": [[[\"in_a\", 0, 0, {}]], [[\"in_b\", 0, 0, {}]]]},"
	"{\"class_name\": \"Dense\", \"name\": \"shared\", \"config\": {\"name\": \"shared\", \"units\": 2, \"activation\": \"relu\"},"
	" \"inbound_nodes\": [[[\"inner\", 1, 0, {}]], [[\"inner\", 2, 0, {}]]]},"
	"{\"class_name\": \"Add\", \"name\": \"add\", \"config\": {\"name\": \"add\"},"
	" \"inbound_nodes\": [[[\"shared\", 0, 0, {}], [\"shared\", 1, 0, {}]]]}],"
	"\"input_layers\": [[\"in_a\", 0, 0], [\"in_b\", 0, 0]], \"output_layers\": [[\"add\", 0, 0]]}}";

static void write_siamese(const char *path)
{
	const char *ln[] = {"in_a", "in_b", "inner", "shared", "add"};
	const char *iw[] = {"inner_dense/kernel:0", "inner_dense/bias:0", "inner_bn/gamma:0",
	                    "inner_bn/beta:0", "inner_bn/moving_mean:0", "inner_bn/moving_variance:0"};
	const hsize_t ishape[6][4] = {{3, 4}, {4}, {4}, {4}, {4}, {4}};
	const char *sw[] = {"shared/kernel:0", "shared/bias:0"};
	const hsize_t sshape[2][4] = {{4, 2}, {2}};
	hid_t f = hb_create(path);
	hb_attr_str(f, "keras_version", "2.8.0", true, 0, H5T_STR_NULLTERM);
	hb_attr_str(f, "backend", "tensorflow", true, 0, H5T_STR_NULLTERM);
	hb_attr_str(f, "model_config", SIAMESE, false, 0, H5T_STR_NULLTERM);
	hid_t wg = hb_group(f, "model_weights");
	hb_attr_strv(wg, "layer_names", ln, 5, true);
	hb_layer(wg, "in_a", NULL, 0, NULL);
	hb_layer(wg, "in_b", NULL, 0, NULL);
	hb_layer(wg, "inner", iw, 6, ishape);
	hb_layer(wg, "shared", sw, 2, sshape);
	hb_layer(wg, "add", NULL, 0, NULL);
	H5Gclose(wg);
	H5Fclose(f);
}

static void write_hostile(const char *path)
{
	const char *bad = "x\n\033]0;T\a";
	const char *wn[] = {"x\n\033]0;T\a/kernel:0"};
	const hsize_t shape[1][4] = {{2, 3}};
	hid_t f = hb_create(path);
	hb_attr_strv(f, "layer_names", &bad, 1, true);
	hb_layer(f, bad, wn, 1, shape);
	H5Fclose(f);
}

static int self_check(void)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/siamese.h5", ks_test_tmpdir());
	write_siamese(path);
	ks_err err;
	ks_model *m = ks_model_open(path, NULL, &err);
	if (!m) {
		fprintf(stderr, "mkmodels: %s\n", err.msg);
		return 1;
	}
	const ks_layer *inner = ks_model_find_layer(m, "inner", false);
	const ks_layer *shared = ks_model_find_layer(m, "shared", false);
	int ok = m->n_layers == 5 && inner && inner->inner && inner->n_nodes == 2 && shared &&
	         shared->n_nodes == 2 && m->total_params == 42;
	ks_model_free(m);
	if (!ok)
		fprintf(stderr, "mkmodels: %s does not load as the nested/shared model expected\n", path);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 1)
		return self_check();
	if (argc != 2) {
		fprintf(stderr, "usage: mkmodels [DIR]\n");
		return 1;
	}
	char path[4096];
	snprintf(path, sizeof path, "%s/siamese.h5", argv[1]);
	write_siamese(path);
	snprintf(path, sizeof path, "%s/hostile.h5", argv[1]);
	write_hostile(path);
	return 0;
}
