/* ks_varnames: what Keras 3 means by `vars/0`, `vars/1`, ... of a layer.
 *
 * The Keras 3 weights store (saving_lib.py) records each object's variables
 * as vars/<i> in the order `trainable + non_trainable`, i.e. in the order the
 * layer's build() created them. This module gives them the names Keras uses
 * in `layer.weights` (kernel, bias, gamma, moving_mean, ...) so that the
 * engine and the views can address them whatever the file format.
 *
 * Nested objects (RNN cells, wrapped layers, attention projections) live in
 * sub-groups of the layer's group; ks_varnames_child says which class and
 * config such a sub-group stands for and which prefix its variables take:
 *
 *   LSTM/GRU/SimpleRNN      cell/vars/{0,1,2}     kernel, recurrent_kernel, bias
 *   Bidirectional(LSTM)     forward_layer/cell    forward/kernel, ..., then
 *                           backward_layer/cell   backward/kernel, ...
 *   TimeDistributed(Dense)  layer/vars            kernel, bias
 *   MultiHeadAttention      [_]query_dense/vars   query/kernel, query/bias,
 *                           key/..., value/..., attention_output/... (the
 *                           names of its EinsumDense sub-layers in Keras)
 *
 * Unknown classes, or a count that does not fit the class and its config,
 * give "var_<i>" (trainable): nothing is guessed.
 */
#ifndef KS_VARNAMES_H
#define KS_VARNAMES_H

#include <stdbool.h>

#include <jansson.h>

/* Keras' naming.to_snake_case of a class name ("LeakyReLU" -> "leaky_re_lu",
 * "Conv2DTranspose" -> "conv2d_transpose"). A registration prefix
 * ("qkeras>QDense") and a module path ("a.b.C") are dropped first, since
 * Keras uses the Python class name. Returns a malloc'd string. */
char *ks_snake_case(const char *class_name);

/* Fills names[0..n-1] (malloc'd strings, owned by the caller) and
 * trainable[0..n-1] for the n variables of one vars group of an object of
 * class `class_name` with config `cfg` (NULL allowed). Returns true when the
 * class is known and the names came from its build() order, false when the
 * generic var_<i> names were used. */
bool ks_varnames(const char *class_name, const json_t *cfg, int n, char **names, bool *trainable);

/* How many variables a layer of class_name with config cfg (NULL allowed:
 * Keras' defaults) has once built, in Keras 2/3: the count of ks_varnames'
 * list, twice the wrapped layer's for Bidirectional, the wrapped layer's for
 * TimeDistributed, 0 for the built-in classes without variables (Dropout,
 * pooling, merges, ...). -1 when the class is not known here. */
int ks_varnames_count(const char *class_name, const json_t *cfg);

/* For the sub-group `attr` of an object of class owner_class (config
 * owner_cfg): the class and config of the object stored there (borrowed
 * from owner_cfg or static; *child_cfg may be NULL) and the prefix of its
 * variable names ("" for none, else "forward", "query", ...; borrowed from
 * attr or static). Unknown sub-groups keep their attribute name, without
 * leading underscores, as prefix and get class "?". */
void ks_varnames_child(const char *owner_class, const json_t *owner_cfg, const char *attr,
                       const char **child_class, const json_t **child_cfg, const char **prefix);

/* Keras class name without registration prefix or module path
 * ("qkeras>QDense" -> "QDense"); borrowed pointer into class_name. */
const char *ks_class_basename(const char *class_name);

#endif
