/* ks_init: initializer rules and the at-init judgement (see ks_init.h). */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ks_init.h"
#include "ks_stats.h"
#include "ks_util.h"

/* Keras' truncated-normal correction: the stddev of a unit normal cut at +-2. */
#define TRUNC_STD 0.87962566103423978
/* Kurtosis (fourth standardised moment) of each family, for the shape test. */
#define KURT_UNIFORM 1.8
#define KURT_TRUNC 2.3628 /* unit normal truncated at +-2 */
#define KURT_NORMAL 3.0
#define MIN_RANDOM 8

void ks_init_fans(const int64_t *shape, int rank, int64_t *fan_in, int64_t *fan_out)
{
	if (rank < 1) {
		*fan_in = *fan_out = 1;
	} else if (rank == 1) {
		*fan_in = *fan_out = shape[0];
	} else if (rank == 2) {
		*fan_in = shape[0];
		*fan_out = shape[1];
	} else {
		int64_t rf = 1;
		for (int i = 0; i < rank - 2; i++)
			rf *= shape[i];
		*fan_in = shape[rank - 2] * rf;
		*fan_out = shape[rank - 1] * rf;
	}
}

/* "GlorotUniform", "glorot_uniform" -> "glorotuniform" */
static void norm_name(const char *s, char *out, size_t n)
{
	size_t k = 0;
	for (; s && *s && k + 1 < n; s++)
		if (*s != '_')
			out[k++] = (char)tolower((unsigned char)*s);
	out[k] = '\0';
}

/* "GlorotUniform" -> "glorot_uniform" (Keras' function names); snake input kept. */
static void snake(const char *s, char *out, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; s[i] && k + 2 < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (isupper(ch)) {
			if (i > 0 && s[i - 1] != '_')
				out[k++] = '_';
			out[k++] = (char)tolower(ch);
		} else {
			out[k++] = (char)ch;
		}
	}
	out[k] = '\0';
}

static double cfg_num(const json_t *cfg, const char *key, double def)
{
	const json_t *v = json_object_get(cfg, key);
	return json_is_number(v) ? json_number_value(v) : def;
}

static const char *cfg_str(const json_t *cfg, const char *key, const char *def)
{
	const json_t *v = json_object_get(cfg, key);
	return json_is_string(v) ? json_string_value(v) : def;
}

static void variance_scaling(ks_init_rule *r, double scale, const char *mode, const char *dist)
{
	double n = strcmp(mode, "fan_in") == 0 ? (double)r->fan_in
	         : strcmp(mode, "fan_out") == 0 ? (double)r->fan_out
	         : ((double)r->fan_in + (double)r->fan_out) / 2.0;
	if (n < 1)
		n = 1;
	if (strcmp(dist, "uniform") == 0) {
		double lim = sqrt(3.0 * scale / n);
		r->kind = KS_INIT_UNIFORM;
		r->lo = -lim;
		r->hi = lim;
	} else {
		r->kind = KS_INIT_NORMAL;
		r->std = sqrt(scale / n);
		r->trunc = strcmp(dist, "untruncated_normal") != 0;
		if (r->trunc)
			r->std_alt = r->std * TRUNC_STD;
	}
}

/* Fills r from an initializer spec: "name", {"class_name", "config"}, or a
 * Keras 3 {"module", "class_name", "config", "registered_name"}. */
static bool parse_spec(const json_t *spec, ks_init_rule *r)
{
	const char *cls = NULL;
	const json_t *cfg = NULL;
	char nm[48];

	if (json_is_string(spec)) {
		cls = json_string_value(spec);
	} else if (json_is_object(spec)) {
		cls = cfg_str(spec, "class_name", NULL);
		cfg = json_object_get(spec, "config");
		const char *mod = cfg_str(spec, "module", NULL);
		if (mod && strncmp(mod, "keras", 5) != 0)
			return false;  /* a custom initializer that happens to share a name */
	}
	if (!cls)
		return false;
	if (strncmp(cls, "Custom>", 7) == 0)
		cls += 7;
	norm_name(cls, nm, sizeof nm);
	snake(cls, r->name, sizeof r->name);
	if (!strcmp(nm, "zeros") || !strcmp(nm, "zero")) {
		r->kind = KS_INIT_CONST;
		r->value = 0;
	} else if (!strcmp(nm, "ones") || !strcmp(nm, "one")) {
		r->kind = KS_INIT_CONST;
		r->value = 1;
	} else if (!strcmp(nm, "constant")) {
		const json_t *v = json_object_get(cfg, "value");
		if (!json_is_number(v))
			return false;
		r->kind = KS_INIT_CONST;
		r->value = json_number_value(v);
	} else if (!strcmp(nm, "glorotuniform")) {
		variance_scaling(r, 1, "fan_avg", "uniform");
	} else if (!strcmp(nm, "glorotnormal")) {
		variance_scaling(r, 1, "fan_avg", "truncated_normal");
	} else if (!strcmp(nm, "heuniform")) {
		variance_scaling(r, 2, "fan_in", "uniform");
	} else if (!strcmp(nm, "henormal")) {
		variance_scaling(r, 2, "fan_in", "truncated_normal");
	} else if (!strcmp(nm, "lecununiform")) {
		variance_scaling(r, 1, "fan_in", "uniform");
	} else if (!strcmp(nm, "lecunnormal")) {
		variance_scaling(r, 1, "fan_in", "truncated_normal");
	} else if (!strcmp(nm, "variancescaling")) {
		const char *dist = cfg_str(cfg, "distribution", "truncated_normal");
		if (strcmp(dist, "normal") == 0)
			dist = "truncated_normal"; /* Keras 2's name for it */
		variance_scaling(r, cfg_num(cfg, "scale", 1.0), cfg_str(cfg, "mode", "fan_in"), dist);
	} else if (!strcmp(nm, "randomuniform") || !strcmp(nm, "uniform")) {
		r->kind = KS_INIT_UNIFORM;
		r->lo = cfg_num(cfg, "minval", -0.05);
		r->hi = cfg_num(cfg, "maxval", 0.05);
		if (!strcmp(nm, "uniform") && !cfg) { /* Keras 1: scale 0.05 */
			r->lo = -0.05;
			r->hi = 0.05;
		}
	} else if (!strcmp(nm, "randomnormal") || !strcmp(nm, "normal") ||
	           !strcmp(nm, "truncatednormal")) {
		r->kind = KS_INIT_NORMAL;
		r->mean = cfg_num(cfg, "mean", 0.0);
		r->trunc = !strcmp(nm, "truncatednormal");
		r->std = cfg_num(cfg, "stddev", 0.05) * (r->trunc ? TRUNC_STD : 1.0);
	} else if (!strcmp(nm, "orthogonal")) {
		r->kind = KS_INIT_ORTHOGONAL;
		r->value = cfg_num(cfg, "gain", 1.0);
	} else if (!strcmp(nm, "identity")) {
		r->kind = KS_INIT_IDENTITY;
		r->value = cfg_num(cfg, "gain", 1.0);
	} else {
		return false;
	}
	return true;
}

/* Where Keras reads the initializer of a weight with this semantic name. */
static const char *init_key(const char *wname)
{
	static const char *const map[][2] = {
		{"kernel", "kernel_initializer"}, {"bias", "bias_initializer"},
		{"recurrent_kernel", "recurrent_initializer"}, {"gamma", "gamma_initializer"},
		{"beta", "beta_initializer"}, {"moving_mean", "moving_mean_initializer"},
		{"moving_variance", "moving_variance_initializer"},
		{"embeddings", "embeddings_initializer"}, {"depthwise_kernel", "depthwise_initializer"},
		{"pointwise_kernel", "pointwise_initializer"}, {"alpha", "alpha_initializer"},
		{"W", "init"}, {"U", "inner_init"},
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(wname, map[i][0]) == 0)
			return map[i][1];
	/* Keras 1 recurrent layers store one array per gate: W_i, U_f, b_o ... */
	if (!strncmp(wname, "W_", 2))
		return "init";
	if (!strncmp(wname, "U_", 2))
		return "inner_init";
	if (!strcmp(wname, "b_f"))
		return "forget_bias_init";
	return NULL;
}

/* Keras' built-in defaults when the config leaves the key out (Keras 1
 * files and hand-written configs). */
static const char *default_init(const char *wname)
{
	if (!strcmp(wname, "bias") || !strcmp(wname, "beta") || !strcmp(wname, "moving_mean") ||
	    !strcmp(wname, "b"))
		return "zeros";
	if (!strcmp(wname, "gamma") || !strcmp(wname, "moving_variance"))
		return "ones";
	if (!strncmp(wname, "b_", 2))
		return "zeros";  /* Keras 1 gate biases (b_f has its own key) */
	return NULL;
}

static bool is_lstm(const char *cls)
{
	return cls && (!strcmp(cls, "LSTM") || !strcmp(cls, "LSTMCell") || !strncmp(cls, "ConvLSTM", 8));
}

bool ks_init_rule_for(const ks_layer *L, const ks_weight *w, ks_init_rule *r)
{
	const char *wname = strrchr(w->name, '/') ? strrchr(w->name, '/') + 1 : w->name;
	const char *key = init_key(wname), *cls = L->class_name;
	const json_t *cfg = L->config, *spec = NULL;

	memset(r, 0, sizeof *r);
	ks_init_fans(w->shape, w->rank, &r->fan_in, &r->fan_out);
	/* the layer's own config, then its cell's, then a wrapped layer's */
	for (int hop = 0; hop < 3 && cfg && !spec; hop++) {
		if (key)
			spec = json_object_get(cfg, key);
		if (spec && !json_is_null(spec))
			break;
		spec = NULL;
		const json_t *inner = json_object_get(cfg, "cell");
		if (!json_is_object(inner)) {
			inner = json_object_get(cfg, "layer");
			if (ks_str_startswith(w->name, "backward") && json_is_object(json_object_get(cfg, "backward_layer")))
				inner = json_object_get(cfg, "backward_layer");
		}
		if (!json_is_object(inner))
			break;
		cls = json_string_value(json_object_get(inner, "class_name"));
		cfg = json_object_get(inner, "config");
	}
	if (!spec) {
		const char *d = default_init(wname);
		if (!d || (key && json_object_get(cfg, key)))
			return false;
		spec = json_string(d);
		bool ok = parse_spec(spec, r);
		json_decref((json_t *)spec);
		if (!ok)
			return false;
	} else if (!parse_spec(spec, r)) {
		r->kind = KS_INIT_UNKNOWN;
		return false;
	}
	if (r->kind == KS_INIT_CONST && !strcmp(wname, "bias") && is_lstm(cls) && w->rank == 1 &&
	    w->shape[0] % 4 == 0) {
		const json_t *ufb = json_object_get(cfg, "unit_forget_bias");
		if (!ufb || json_is_true(ufb))
			r->forget_units = w->shape[0] / 4;
	}
	if (r->kind == KS_INIT_ORTHOGONAL || r->kind == KS_INIT_IDENTITY) {
		r->cols = w->rank >= 1 ? w->shape[w->rank - 1] : 1;
		r->rows = 1;
		for (int i = 0; i + 1 < w->rank; i++)
			r->rows *= w->shape[i];
	}
	return true;
}

/* ---- scan ---- */

typedef struct scan_ctx {
	ks_init_scan *s;
	const ks_init_rule *rule;
	int64_t pos;
} scan_ctx;

static double expected_const(const ks_init_rule *r, int64_t pos)
{
	if (r->kind == KS_INIT_IDENTITY)
		return r->cols > 0 && pos / r->cols == pos % r->cols ? r->value : 0.0;
	if (r->forget_units > 0 && pos >= r->forget_units && pos < 2 * r->forget_units)
		return 1.0;
	return r->value;
}

static int scan_block(const float *v, size_t n, void *vctx, ks_err *err)
{
	scan_ctx *c = vctx;
	ks_init_scan *s = c->s;
	bool positional = c->rule && (c->rule->kind == KS_INIT_CONST || c->rule->kind == KS_INIT_IDENTITY);
	(void)err;
	for (size_t i = 0; i < n; i++, c->pos++) {
		double x = v[i];
		s->n++;
		if (!isfinite(x)) {
			if (isnan(x))
				s->nan++;
			else if (x > 0)
				s->posinf++;
			else
				s->neginf++;
			if (s->n_bad_first < 3) {
				s->bad_kind[s->n_bad_first] = isnan(x) ? 'n' : x > 0 ? '+' : '-';
				s->bad_first[s->n_bad_first++] = c->pos;
			}
			if (positional)
				s->off_const++;
			continue;
		}
		s->finite++;
		if (x < s->min)
			s->min = x;
		if (x > s->max)
			s->max = x;
		s->s1 += x;
		s->s2 += x * x;
		s->s3 += x * x * x;
		s->s4 += x * x * x * x;
		if (positional && (float)x != (float)expected_const(c->rule, c->pos))
			s->off_const++;
	}
	return 0;
}

int ks_init_scan_weight(const ks_model *m, const ks_weight *w, const ks_init_rule *rule,
                        ks_init_scan *s, ks_err *err)
{
	scan_ctx c = {.s = s, .rule = rule};
	memset(s, 0, sizeof *s);
	s->min = INFINITY;
	s->max = -INFINITY;
	return ks_weight_walk(m, w, NULL, NULL, 0, scan_block, &c, err);
}

/* ---- judgement ---- */

static void moments(const ks_init_scan *s, double *mean, double *std, double *kurt)
{
	double n = (double)s->finite, mu = s->s1 / n;
	double var = s->s2 / n - mu * mu;
	double m4 = s->s4 / n - 4 * mu * s->s3 / n + 6 * mu * mu * s->s2 / n - 3 * mu * mu * mu * mu;
	if (var < 0)
		var = 0;
	*mean = mu;
	*std = sqrt(var);
	*kurt = var > 0 ? m4 / (var * var) : 0;
}

static bool near_rel(double got, double want, double band)
{
	return want > 0 ? fabs(got / want - 1.0) <= band : fabs(got) <= 1e-12;
}

ks_init_verdict ks_init_judge(const ks_init_rule *r, const ks_init_scan *s, char *why, size_t wn)
{
	char dummy[8];
	double mean, std, kurt, n = (double)s->finite;

	if (!why) {
		why = dummy;
		wn = sizeof dummy;
	}
	why[0] = '\0';
	if (r->kind == KS_INIT_UNKNOWN || s->n == 0)
		return KS_INIT_CANNOT_TELL;
	if (s->finite != s->n) {
		snprintf(why, wn, "%lld non-finite values", (long long)(s->n - s->finite));
		return KS_INIT_MOVED;
	}
	if (r->kind == KS_INIT_CONST || r->kind == KS_INIT_IDENTITY) {
		if (s->off_const) {
			snprintf(why, wn, "%lld of %lld values differ from %s", (long long)s->off_const,
			         (long long)s->n, r->name);
			return KS_INIT_MOVED;
		}
		if (r->forget_units)
			snprintf(why, wn, "all %lld values exactly as %s leaves them (forget gate 1)",
			         (long long)s->n, r->name);
		else
			snprintf(why, wn, "all %lld values exactly %g (%s)", (long long)s->n,
			         r->kind == KS_INIT_IDENTITY ? r->value : r->value, r->name);
		return KS_INIT_AT_INIT;
	}
	if (s->n < MIN_RANDOM)
		return KS_INIT_CANNOT_TELL;
	moments(s, &mean, &std, &kurt);
	/* bands: ~6 standard errors of each statistic for n samples */
	double se = 1.0 / sqrt(n);
	if (r->kind == KS_INIT_ORTHOGONAL) {
		double want = r->value * r->value * (double)(r->rows < r->cols ? r->rows : r->cols);
		if (!near_rel(s->s2, want, 1e-4)) {
			snprintf(why, wn, "sum of squares %.6g, an orthogonal matrix gives %.6g", s->s2, want);
			return KS_INIT_MOVED;
		}
		snprintf(why, wn, "sum of squares %.6g = gain^2 * %lld, as an orthogonal matrix (%s)",
		         s->s2, (long long)(r->rows < r->cols ? r->rows : r->cols), r->name);
		return KS_INIT_AT_INIT;
	}
	if (r->kind == KS_INIT_UNIFORM) {
		double w = r->hi - r->lo, tol = 1e-6 * w, want_std = w / sqrt(12.0);
		double mid = (r->hi + r->lo) / 2;
		if (s->min < r->lo - tol || s->max > r->hi + tol) {
			snprintf(why, wn, "values reach [%.4g, %.4g], outside the %s range [%.4g, %.4g]",
			         s->min, s->max, r->name, r->lo, r->hi);
			return KS_INIT_MOVED;
		}
		if (!near_rel(std, want_std, 6 * sqrt(0.2) * se + 0.01) ||
		    fabs(mean - mid) > 6 * want_std * se + tol ||
		    (n >= 200 && fabs(kurt - KURT_UNIFORM) > 0.1 + 8 * se) ||
		    (n >= 40 && (s->max < r->hi - w * 20 / n || s->min > r->lo + w * 20 / n))) {
			snprintf(why, wn, "within the %s range but std %.4g (uniform gives %.4g), mean %.3g, "
			         "kurtosis %.2f (uniform 1.8)", r->name, std, want_std, mean, kurt);
			return KS_INIT_MOVED;
		}
		snprintf(why, wn, "all %lld values within +-%.4g (%s limit for fan_in %lld, fan_out %lld), "
		         "std %.4g (expected %.4g)", (long long)s->n, r->hi, r->name, (long long)r->fan_in,
		         (long long)r->fan_out, std, want_std);
		return KS_INIT_AT_INIT;
	}
	/* normal, possibly truncated; try the stddev variants Keras versions used */
	for (int alt = 0; alt < 2; alt++) {
		double sd = alt ? r->std_alt : r->std, sigma0, bound, k;
		if (sd <= 0)
			continue;
		sigma0 = r->trunc ? sd / TRUNC_STD : sd;
		bound = r->trunc ? 2 * sigma0 * (1 + 1e-5) : 7 * sd;
		k = r->trunc ? KURT_TRUNC : KURT_NORMAL;
		if (s->min < r->mean - bound || s->max > r->mean + bound)
			continue;
		if (!near_rel(std, sd, 6 * 0.6 * se + 0.01) || fabs(mean - r->mean) > 6 * sd * se + 1e-7 ||
		    (n >= 200 && fabs(kurt - k) > 0.15 + 12 * se))
			continue;
		snprintf(why, wn, "all %lld values within +-%.4g, std %.4g (%s for fan_in %lld, fan_out %lld "
		         "gives %.4g)", (long long)s->n, bound, std, r->name, (long long)r->fan_in,
		         (long long)r->fan_out, sd);
		return KS_INIT_AT_INIT;
	}
	snprintf(why, wn, "std %.4g, range [%.4g, %.4g]: not what %s gives (std %.4g)", std, s->min,
	         s->max, r->name, r->std);
	return KS_INIT_MOVED;
}
