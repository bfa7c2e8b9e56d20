#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ks_guess.h"

/* The weights of one (sub-)layer: those of L whose name starts with prefix,
 * the prefix removed. */
typedef struct wset {
	const ks_layer *L;
	const char *prefix; /* "" or "forward/" ... */
	int n;
} wset;

static const char *rest(const wset *s, const ks_weight *w)
{
	size_t lp = strlen(s->prefix);
	return strncmp(w->name, s->prefix, lp) == 0 ? w->name + lp : NULL;
}

static const ks_weight *get(const wset *s, const char *name)
{
	for (int k = 0; k < s->L->n_weights; k++) {
		const char *r = rest(s, &s->L->weights[k]);
		if (r && strcmp(r, name) == 0)
			return &s->L->weights[k];
	}
	return NULL;
}

/* True when every weight of the set is named in allowed (NULL-terminated). */
static bool only(const wset *s, const char *const *allowed)
{
	for (int k = 0; k < s->L->n_weights; k++) {
		const char *r = rest(s, &s->L->weights[k]);
		bool ok = false;
		if (!r)
			continue;
		for (const char *const *a = allowed; *a && !ok; a++)
			ok = strcmp(r, *a) == 0;
		if (!ok)
			return false;
	}
	return true;
}

static bool set(ks_guess *g, const char *why, const char *a, const char *b, const char *c,
                const char *d)
{
	const char *v[] = {a, b, c, d};
	g->n = 0;
	for (int i = 0; i < 4; i++)
		if (v[i])
			g->classes[g->n++] = v[i];
	g->why = why;
	return g->n > 0;
}

static bool is_vec(const ks_weight *w, int64_t len)
{
	return w && w->rank == 1 && (len < 0 || w->shape[0] == len);
}

static bool guess_rnn(const wset *s, ks_guess *g)
{
	static const char *const names[] = {"kernel", "recurrent_kernel", "bias", NULL};
	static const char *const dense_rnn[] = {NULL, "SimpleRNN", NULL, "GRU", "LSTM"};
	static const char *const conv_lstm[] = {NULL, NULL, NULL, "ConvLSTM1D", "ConvLSTM2D",
	                                        "ConvLSTM3D"};
	const ks_weight *k = get(s, "kernel"), *rk = get(s, "recurrent_kernel");
	int r;
	int64_t units, gates;

	if (!k || !rk || !only(s, names) || k->rank != rk->rank || k->rank < 2 || k->rank > 5)
		return false;
	r = rk->rank;
	units = rk->shape[r - 2];
	if (units <= 0 || rk->shape[r - 1] % units != 0 || k->shape[r - 1] != rk->shape[r - 1])
		return false;
	gates = rk->shape[r - 1] / units;
	if (r == 2 && gates <= 4 && dense_rnn[gates])
		return set(g, "kernel + recurrent_kernel (gate multiple)", dense_rnn[gates], NULL, NULL,
		           NULL);
	if (r > 2 && gates == 4)
		return set(g, "kernel + recurrent_kernel of a convolution (4 gates)", conv_lstm[r], NULL,
		           NULL, NULL);
	return false;
}

static bool has_all(const wset *s, const char *const *names)
{
	for (const char *const *n = names; *n; n++)
		if (!get(s, *n))
			return false;
	return true;
}

static bool guess_keras1_rnn(const wset *s, ks_guess *g)
{
	static const char *const lstm[] = {"W_i", "U_i", "b_i", "W_c", "U_c", "b_c",
	                                   "W_f", "U_f", "b_f", "W_o", "U_o", "b_o", NULL};
	static const char *const gru[] = {"W_z", "U_z", "b_z", "W_r", "U_r", "b_r",
	                                  "W_h", "U_h", "b_h", NULL};
	static const char *const srnn[] = {"W", "U", "b", NULL};

	if (has_all(s, lstm) && only(s, lstm))
		return set(g, "Keras 1 per-gate weights i, c, f, o", "LSTM", NULL, NULL, NULL);
	if (has_all(s, gru) && only(s, gru))
		return set(g, "Keras 1 per-gate weights z, r, h", "GRU", NULL, NULL, NULL);
	if (has_all(s, srnn) && only(s, srnn))
		return set(g, "Keras 1 W + U + b", "SimpleRNN", NULL, NULL, NULL);
	return false;
}

/* A convolution kernel keeps its filters last (ConvND) or second to last
 * (ConvNDTranspose); the bias has as many entries as filters. */
static bool guess_conv(const ks_weight *k, const ks_weight *b, ks_guess *g)
{
	static const char *const conv[] = {NULL, NULL, NULL, "Conv1D", "Conv2D", "Conv3D"};
	static const char *const tconv[] = {NULL, NULL, NULL, "Conv1DTranspose", "Conv2DTranspose",
	                                    "Conv3DTranspose"};
	int r = k->rank;
	int64_t last = k->shape[r - 1], second = k->shape[r - 2];

	if (b && b->rank == 1) {
		bool c = b->shape[0] == last, t = b->shape[0] == second;
		if (c && !t)
			return set(g, "kernel + bias of as many filters as its last axis", conv[r], NULL, NULL,
			           NULL);
		if (t && !c)
			return set(g, "kernel + bias of as many filters as its second-to-last axis", tconv[r],
			           NULL, NULL, NULL);
		if (c && t)
			return set(g, "kernel + bias (its two channel axes are equal)", conv[r], tconv[r], NULL,
			           NULL);
		return false;
	}
	if (b)
		return r == 3 && (b->rank == 2 || b->rank == 3)
		               ? set(g, "rank-3 kernel + a bias per output position", "LocallyConnected1D",
		                     "LocallyConnected2D", NULL, NULL)
		               : false;
	if (r == 3)
		return set(g, "rank-3 kernel without a bias", conv[r], tconv[r], "LocallyConnected1D",
		           "LocallyConnected2D");
	return set(g, "kernel without a bias", conv[r], tconv[r], NULL, NULL);
}

static bool guess_set(const wset *s, ks_guess *g)
{
	static const char *const bn[] = {"gamma", "beta", "moving_mean", "moving_variance", NULL};
	static const char *const bn1[] = {"gamma", "beta", "running_mean", "running_std", NULL};
	static const char *const ln[] = {"gamma", "beta", NULL};
	static const char *const kb[] = {"kernel", "bias", NULL};
	static const char *const sep[] = {"depthwise_kernel", "pointwise_kernel", "bias", NULL};
	static const char *const dw[] = {"depthwise_kernel", "bias", NULL};
	static const char *const emb[] = {"embeddings", NULL};
	static const char *const pr[] = {"alpha", NULL};
	static const char *const wb[] = {"W", "b", NULL};
	const ks_weight *k, *b;

	if (s->n == 0)
		return false;
	if (get(s, "moving_mean") && get(s, "moving_variance") && only(s, bn))
		return set(g, "moving_mean + moving_variance", "BatchNormalization", NULL, NULL, NULL);
	if (get(s, "running_mean") && get(s, "running_std") && only(s, bn1))
		return set(g, "Keras 1 running_mean + running_std", "BatchNormalization", NULL, NULL, NULL);
	if (get(s, "gamma") && get(s, "beta") && only(s, ln))
		return set(g, "gamma + beta without moving statistics", "LayerNormalization",
		           "GroupNormalization", NULL, NULL);
	if (guess_rnn(s, g) || guess_keras1_rnn(s, g))
		return true;
	k = get(s, "depthwise_kernel");
	b = get(s, "bias");
	if (k && (k->rank == 3 || k->rank == 4)) {
		const ks_weight *p = get(s, "pointwise_kernel");
		if (p && p->rank == k->rank && only(s, sep) && (!b || is_vec(b, p->shape[p->rank - 1])))
			return set(g, "depthwise_kernel + pointwise_kernel",
			           k->rank == 3 ? "SeparableConv1D" : "SeparableConv2D", NULL, NULL, NULL);
		if (!p && only(s, dw))
			return set(g, "depthwise_kernel",
			           k->rank == 3 ? "DepthwiseConv1D" : "DepthwiseConv2D", NULL, NULL, NULL);
		return false;
	}
	k = get(s, "embeddings");
	if (k && k->rank == 2 && only(s, emb))
		return set(g, "embeddings", "Embedding", NULL, NULL, NULL);
	if (get(s, "alpha") && only(s, pr))
		return set(g, "alpha", "PReLU", NULL, NULL, NULL);
	k = get(s, "kernel");
	if (k && only(s, kb)) {
		if (k->rank == 2 && (!b || is_vec(b, k->shape[1])))
			return set(g, "rank-2 kernel (+ bias)", "Dense", NULL, NULL, NULL);
		if (k->rank >= 3 && k->rank <= 5)
			return guess_conv(k, b, g);
		return false;
	}
	k = get(s, "W");
	if (k && k->rank == 2 && only(s, wb)) {
		b = get(s, "b");
		if (is_vec(b, k->shape[1]))
			return set(g, "Keras 1 W + b of rank 2", "Dense", NULL, NULL, NULL);
		if (!b)
			return set(g, "Keras 1 rank-2 W without b", "Dense", "Embedding", NULL, NULL);
	}
	return false;
}

static int count_prefixed(const ks_layer *L, const char *prefix)
{
	int n = 0;
	for (int k = 0; k < L->n_weights; k++)
		n += strncmp(L->weights[k].name, prefix, strlen(prefix)) == 0;
	return n;
}

static bool guess_bidirectional(const ks_layer *L, ks_guess *g)
{
	static const char *const rnn[] = {"SimpleRNN", "GRU", "LSTM"};
	static const char *const bi[] = {"Bidirectional(SimpleRNN)", "Bidirectional(GRU)",
	                                 "Bidirectional(LSTM)"};
	wset f = {L, "forward/", count_prefixed(L, "forward/")};
	wset b = {L, "backward/", count_prefixed(L, "backward/")};
	ks_guess gf, gb;

	if (f.n == 0 || f.n != b.n || f.n + b.n != L->n_weights)
		return false;
	if (!guess_set(&f, &gf) || !guess_set(&b, &gb) || gf.n != 1 || gb.n != 1 ||
	    strcmp(gf.classes[0], gb.classes[0]) != 0)
		return false;
	for (int i = 0; i < 3; i++)
		if (strcmp(gf.classes[0], rnn[i]) == 0)
			return set(g, "forward/ and backward/ recurrent weights", bi[i], NULL, NULL, NULL);
	return false;
}

static bool guess_mha(const ks_layer *L, ks_guess *g)
{
	static const char *const parts[] = {"query/", "key/", "value/", "attention_output/"};
	int n = 0;
	for (int i = 0; i < 4; i++) {
		int c = count_prefixed(L, parts[i]);
		if (c == 0)
			return false;
		n += c;
	}
	return n == L->n_weights &&
	       set(g, "query/, key/, value/ and attention_output/ projections", "MultiHeadAttention",
	           NULL, NULL, NULL);
}

bool ks_guess_class(const ks_layer *L, ks_guess *g)
{
	wset all = {L, "", L->n_weights};

	g->n = 0;
	g->why = NULL;
	if (!L->class_name || strcmp(L->class_name, "?") != 0 || L->n_weights == 0 || L->inner)
		return false;
	return guess_bidirectional(L, g) || guess_mha(L, g) || guess_set(&all, g) ||
	       (g->n = 0, false);
}

const char *ks_layer_class_label(const ks_layer *L, char *buf, size_t n)
{
	ks_guess g;
	size_t k = 0;

	if (!ks_guess_class(L, &g)) {
		snprintf(buf, n, "%s", L->class_name ? L->class_name : "?");
		return buf;
	}
	buf[0] = '\0';
	for (int i = 0; i < g.n && k < n; i++)
		k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? "|" : "", g.classes[i]);
	if (k < n)
		snprintf(buf + k, n - k, "?");
	return buf;
}
