/* fuzz_config: libFuzzer target for an architecture JSON (a model_config
 * attribute, config.json, a --config file): defensive parsing
 * (ks_json_parse), the graph (ks_graph_build) and the shape inference every
 * view runs (ks_infer_layer_shapes, which plans each layer's op). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>

#include "ks_graph.h"
#include "ks_legacy.h"
#include "ks_model.h"
#include "ks_plan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ks_err err;
	json_t *cfg = ks_json_parse((const char *)data, size, "fuzz", &err);
	ks_model *m;

	if (!cfg)
		return 0;
	m = ks_model_new("fuzz.json");
	if (ks_graph_build(m, cfg, &err) == 0 && m->n_layers > 0) {
		ks_shape *shapes = calloc((size_t)m->n_layers, sizeof *shapes);
		ks_infer_layer_shapes(m, shapes);
		free(shapes);
	}
	ks_model_free(m);
	json_decref(cfg);
	return 0;
}
