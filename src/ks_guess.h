/* ks_guess: the Keras class a layer's weights imply, for files that hold
 * weights but no architecture (model.save_weights() files, Keras 3
 * .weights.h5, with no --config).
 *
 * Only the weights are used: their semantic names (kernel, gamma, W_i, ...)
 * and shapes, never the layer's name (which the user chose). A guess lists
 * every built-in class those weights fit; it is unambiguous when there is
 * exactly one. What is told apart, and why:
 *
 *   moving_mean + moving_variance (+ gamma, beta)  BatchNormalization
 *     (Keras 1: running_mean + running_std)
 *   gamma + beta, no moving statistics             LayerNormalization or
 *                                                  GroupNormalization
 *   kernel + recurrent_kernel (+ bias)             by the gate multiple g =
 *     recurrent_kernel's last dimension / units: SimpleRNN (1), GRU (3),
 *     LSTM (4) for rank-2 kernels; ConvLSTM1D/2D/3D (g = 4) for rank 3/4/5.
 *     Keras 1's per-gate W_i, U_i, ... names: LSTM (i, c, f, o), GRU (z, r, h).
 *   forward/... + backward/... of one of those    Bidirectional(that)
 *   depthwise_kernel + pointwise_kernel           SeparableConv1D/2D (rank 3/4)
 *   depthwise_kernel                              DepthwiseConv1D/2D (rank 3/4)
 *   embeddings                                    Embedding
 *   alpha                                         PReLU
 *   query/, key/, value/, attention_output/       MultiHeadAttention
 *   kernel of rank 2 (+ bias)                     Dense (an EinsumDense with
 *                                                  such a kernel computes the same)
 *   kernel of rank 3/4/5 (+ bias)                 ConvND or ConvNDTranspose: the
 *     bias tells them apart when the two channel axes differ (Conv keeps
 *     filters last, Transpose second to last); without a bias, or when they are
 *     equal, both remain. Rank 3 without a bias also fits LocallyConnected1D/2D
 *     (whose bias has rank 2 or 3).
 *
 * Anything else (no weights, generic var_<i> names, custom weights) gives no
 * guess. Strings returned are static.
 */
#ifndef KS_GUESS_H
#define KS_GUESS_H

#include <stdbool.h>
#include <stddef.h>

#include "ks_model.h"

#define KS_GUESS_MAX 4

typedef struct ks_guess {
	const char *classes[KS_GUESS_MAX]; /* every class the weights fit */
	int n;                             /* 1: unambiguous */
	const char *why;                   /* the weights that decided it */
} ks_guess;

/* Guesses the class of L from its weights. Only layers whose class is
 * unknown ("?") are guessed; false (g->n = 0) when nothing fits. */
bool ks_guess_class(const ks_layer *L, ks_guess *g);

/* The class to show for L: its class_name when known; else the guess
 * marked with a trailing '?' ("Dense?", "Conv2D|Conv2DTranspose?"); else
 * "?". Written into buf (n bytes) and returned. */
const char *ks_layer_class_label(const ks_layer *L, char *buf, size_t n);

#endif
