/* cli_replay: `kerascope replay SESSION [MODEL]`, and the session side of
 * `kerascope diff` (two sessions, or a session and a model).
 *
 * replay runs the recorded inputs through MODEL (default: the model path
 * the session recorded) and compares the outputs with the recorded ones
 * (ks_replay.h does the work). The session file is only read.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_common.h"
#include "cli_replay.h"
#include "ks_replay.h"
#include "ks_session.h"
#include "ks_util.h"

/* openblas_set_num_threads is OpenBLAS-specific and not in cblas.h everywhere. */
extern void openblas_set_num_threads(int);

static const char usage_text[] =
	"Usage: kerascope replay SESSION [MODEL] [-d D | -p P] [--threads N] [--json]\n"
	"Runs the inputs recorded in SESSION (predict --record, or written with h5py as\n"
	"kerascope(1) describes) through MODEL (default: the model file the session names)\n"
	"and compares the outputs with the recorded ones. Says whether the model has the\n"
	"same weights and architecture, names the first diverging layer when activations\n"
	"were recorded, reports top-1 agreement and class permutations.\n\n"
	"  -d D           values differ when |a-b| > D\n"
	"  -p P           values differ when |a-b| > P*|a| (a: recorded value)\n"
	"                 (default: exact when the weights digest is the same, else -p 1e-5)\n"
	"  --threads N    OpenBLAS threads (default: as recorded, else 1)\n"
	"  --json         machine-readable verdict\n"
	CLI_MODEL_OPTS_HELP
	"\nExit status: 0 same results, 1 different, 2 error.\n";

static const char diff_usage_text[] =
	"Usage: kerascope diff SESSION1 SESSION2|MODEL [-d D | -p P] [--json]\n"
	"Compares two sessions: inputs (sample by sample), models (weights and architecture\n"
	"digests) and outputs; with a model file it is `kerascope replay SESSION MODEL`.\n"
	"Exit status: 0 same results, 1 different, 2 error.\n";

typedef struct ropts {
	const char *a, *b;
	ks_tol tol;
	bool tol_given, json;
	int threads;
	ks_open_opts open;   /* --config for a weights-only MODEL (cli_common.h) */
} ropts;

static bool parse_double(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || v > 1e300)
		return false;
	*out = v;
	return true;
}

/* Returns -1 to continue, else an exit status. */
static int parse(const char *cmd, const char *usage, int argc, char **argv, ropts *o)
{
	static const struct option opts[] = {
		{"delta", required_argument, NULL, 'd'},
		{"relative", required_argument, NULL, 'p'},
		{"threads", required_argument, NULL, 't'},
		{"json", no_argument, NULL, 'j'},
		CLI_MODEL_OPTION_ROWS,
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof *o);
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "hd:p:", opts, NULL)) != -1) {
		switch (c) {
		case 'h':
			fputs(usage, stdout);
			return 0;
		case 'd':
		case 'p':
			if (o->tol_given) {
				fprintf(stderr, "kerascope: %s: give one of -d and -p\n", cmd);
				return 2;
			}
			if (!parse_double(optarg, &o->tol.value)) {
				fprintf(stderr, "kerascope: %s: -%c needs a non-negative number, not '%s'\n", cmd, c,
				        optarg);
				return 2;
			}
			o->tol.kind = c == 'd' ? KS_TOL_ABS : KS_TOL_REL;
			o->tol_given = true;
			break;
		case 't': {
			char *end;
			long v = strtol(optarg, &end, 10);
			if (*end || end == optarg || v < 1 || v > 1024) {
				fprintf(stderr, "kerascope: %s: --threads needs a positive number, not '%s'\n", cmd,
				        optarg);
				return 2;
			}
			o->threads = (int)v;
			break;
		}
		case 'j': o->json = true; break;
		default:
			switch (cli_model_opt(cmd, c, optarg, &o->open)) {
			case 1: continue;
			case -1: return 2;
			}
			return cli_bad_option(cmd, argv);
		}
	}
	int left = argc - optind;
	if (left < 1 || left > 2 || (left == 1 && strcmp(cmd, "diff") == 0)) {
		fprintf(stderr, "kerascope: %s: expected %s (try 'kerascope %s --help')\n", cmd,
		        strcmp(cmd, "diff") == 0 ? "SESSION and SESSION|MODEL" : "SESSION [MODEL]", cmd);
		return 2;
	}
	o->a = argv[optind];
	o->b = left == 2 ? argv[optind + 1] : NULL;
	return -1;
}

static int verdict(const ks_session *a, const ks_session *b, const ropts *o)
{
	ks_err err;
	ks_compare *c = ks_compare_sessions(a, b, o->tol_given ? &o->tol : NULL, &err);
	if (!c) {
		fprintf(stderr, "kerascope: %s\n", err.msg);
		return 2;
	}
	ks_compare_print(stdout, c, o->json);
	int st = c->identical ? 0 : 1;
	ks_compare_free(c);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "kerascope: cannot write output: %s\n", strerror(errno));
		return 2;
	}
	return st;
}

static int replay(const ropts *o)
{
	ks_err err;
	ks_session *rec = NULL, *now = NULL;
	ks_model *m = NULL;
	int st = 2;

	rec = ks_session_open(o->a, &err);
	if (!rec)
		goto fail;
	const char *model = o->b ? o->b : rec->model.path;
	if (!model) {
		ks_fail(&err, "%s: the session names no model file: give MODEL", o->a);
		goto fail;
	}
	openblas_set_num_threads(o->threads ? o->threads : rec->model.threads > 0 ? rec->model.threads : 1);
	m = cli_open_model(model, &o->open);
	if (!m)
		goto done; /* the message is out */
	if (m->n_inputs == 0) {
		ks_fail(&err, "%s: the file holds no runnable model (no inputs)", model);
		goto fail;
	}
	now = ks_replay(rec, m, &err);
	if (!now)
		goto fail;
	st = verdict(rec, now, o);
	goto done;
fail:
	fprintf(stderr, "kerascope: %s\n", err.msg);
done:
	ks_session_free(now);
	ks_model_free(m);
	ks_session_free(rec);
	return st;
}

int cli_replay(int argc, char **argv)
{
	ropts o;
	int rc = parse("replay", usage_text, argc, argv, &o);
	return rc >= 0 ? rc : replay(&o);
}

int cli_session_diff(int argc, char **argv)
{
	ropts o;
	int rc = parse("diff", diff_usage_text, argc, argv, &o);
	if (rc >= 0)
		return rc;
	bool sa = ks_session_is(o.a), sb = ks_session_is(o.b);
	if (!sa && sb) {
		/* diff MODEL SESSION: the replay of SESSION on MODEL */
		const char *t = o.a;
		o.a = o.b;
		o.b = t;
	}
	if (!sa || !sb)
		return replay(&o);
	ks_err err;
	ks_session *a = ks_session_open(o.a, &err), *b = NULL;
	if (a)
		b = ks_session_open(o.b, &err);
	if (!a || !b) {
		fprintf(stderr, "kerascope: %s\n", err.msg);
		ks_session_free(a);
		return 2;
	}
	rc = verdict(a, b, &o);
	ks_session_free(a);
	ks_session_free(b);
	return rc;
}

/* ---- predict --record / --expect ---------------------------------------------- */

static char *now_iso(void)
{
	char buf[32];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return ks_xstrdup(buf);
}

static int record(const cli_predict_run *r, ks_err *err)
{
	ks_session *s = ks_session_new(r->record);
	int rc = ks_session_identify(s, r->model, err);
	if (rc == 0) {
		s->created = now_iso();
		s->kerascope_version = ks_xstrdup(PACKAGE_VERSION);
		s->writer = ks_xstrdup("kerascope predict");
		s->model.threads = r->threads;
		for (int i = 0; i < r->n_labels; i++) {
			s->labels = ks_xrealloc(s->labels, sizeof *s->labels * (size_t)(s->n_labels + 1));
			s->labels[s->n_labels++] = ks_xstrdup(r->labels[i]);
		}
		ks_replay_capture(s, r->plan, r->inputs, r->sources, r->until, r->record_acts);
		rc = ks_session_write(s, r->record, err);
	}
	ks_session_free(s);
	return rc;
}

/* The expected outputs as a session sharing the run's inputs. */
static ks_session *expected(const cli_predict_run *r, ks_session *now, ks_err *err)
{
	ks_session *e = ks_session_new(r->n_expect == 1 ? r->expect[0] : "the --expect files");
	const ks_session_run *nr = &now->runs[0];
	ks_session_run *er = ks_session_add_run(e);

	er->until = r->until ? ks_xstrdup(r->until) : NULL;
	for (int i = 0; i < nr->n_inputs; i++)
		ks_session_add_tensor(&er->inputs, &er->n_inputs, nr->inputs[i].name, nr->inputs[i].mem,
		                      nr->inputs[i].shape, nr->inputs[i].rank);
	if (r->n_expect != nr->n_outputs) {
		ks_fail(err, "%s: the run has %d output%s but %d --expect file%s given", r->file, nr->n_outputs,
		        nr->n_outputs == 1 ? "" : "s", r->n_expect, r->n_expect == 1 ? " was" : "s were");
		ks_session_free(e);
		return NULL;
	}
	for (int o = 0; o < r->n_expect; o++) {
		ks_array a;
		if (ks_npy_read(r->expect[o], &a, err) < 0) {
			ks_session_free(e);
			return NULL;
		}
		/* a reference written without the batch axis (one sample) */
		if (a.rank == nr->outputs[o].rank - 1 && nr->outputs[o].shape[0] == 1) {
			memmove(a.shape + 1, a.shape, sizeof(int64_t) * (size_t)a.rank);
			a.shape[0] = 1;
			a.rank++;
		}
		if (a.rank < 1 || a.shape[0] != nr->inputs[0].shape[0]) {
			char s1[160], s2[160];
			ks_fail(err, "%s: has shape %s but output %d of the run is %s", r->expect[o],
			        ks_shape_str(a.shape, a.rank, s1, sizeof s1), o,
			        ks_shape_str(nr->outputs[o].shape, nr->outputs[o].rank, s2, sizeof s2));
			ks_array_free(&a);
			ks_session_free(e);
			return NULL;
		}
		ks_session_add_tensor(&er->outputs, &er->n_outputs, nr->outputs[o].name, a.data, a.shape, a.rank);
		ks_array_free(&a);
	}
	return e;
}

int cli_predict_session(const cli_predict_run *r, json_t *root)
{
	ks_err err;
	int st = 0;

	ks_err_clear(&err);
	if (r->record && record(r, &err) < 0) {
		fprintf(stderr, "kerascope: %s\n", err.msg);
		return 2;
	}
	if (!r->n_expect)
		return 0;
	ks_session *now = ks_session_new(r->file), *exp = NULL;
	ks_compare *c = NULL;
	ks_replay_capture(now, r->plan, r->inputs, r->sources, r->until, false);
	exp = expected(r, now, &err);
	if (exp)
		c = ks_compare_sessions(exp, now, NULL, &err);
	if (!c) {
		fprintf(stderr, "kerascope: %s\n", err.msg);
		st = 2;
	} else {
		if (root) {
			json_object_set_new(root, "expect", ks_compare_json(c));
		} else {
			putchar('\n');
			ks_compare_print(stdout, c, false);
		}
		st = c->identical ? 0 : 1;
	}
	ks_compare_free(c);
	ks_session_free(exp);
	ks_session_free(now);
	return st;
}
