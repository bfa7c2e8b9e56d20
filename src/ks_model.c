#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ks_graph.h"
#include "ks_h5.h"
#include "ks_formats.h"
#include "ks_loadorder.h"
#include "ks_model.h"
#include "ks_index.h"
#include "ks_util.h"

/* ---- names ---------------------------------------------------------------- */

const char *ks_format_name(ks_format f)
{
	switch (f) {
	case KS_FMT_LEGACY_H5: return "legacy-h5";
	case KS_FMT_WEIGHTS_H5: return "weights-h5";
	case KS_FMT_KERAS3: return "keras3";
	case KS_FMT_KERAS2_ZIP: return "keras2-zip";
	case KS_FMT_KERAS3_WEIGHTS: return "keras3-weights";
	case KS_FMT_PLAIN_H5: return "hdf5";
	case KS_FMT_UNKNOWN: break;
	}
	return "unknown";
}

const char *ks_dtype_name(ks_dtype t)
{
	switch (t) {
	case KS_DT_F16: return "float16";
	case KS_DT_F32: return "float32";
	case KS_DT_F64: return "float64";
	case KS_DT_I8: return "int8";
	case KS_DT_I16: return "int16";
	case KS_DT_I32: return "int32";
	case KS_DT_I64: return "int64";
	case KS_DT_U8: return "uint8";
	case KS_DT_U16: return "uint16";
	case KS_DT_U32: return "uint32";
	case KS_DT_U64: return "uint64";
	case KS_DT_BOOL: return "bool";
	case KS_DT_STRING: return "string";
	case KS_DT_OTHER: return "other";
	case KS_DT_UNKNOWN: break;
	}
	return "unknown";
}

size_t ks_dtype_size(ks_dtype t)
{
	switch (t) {
	case KS_DT_I8: case KS_DT_U8: case KS_DT_BOOL: return 1;
	case KS_DT_F16: case KS_DT_I16: case KS_DT_U16: return 2;
	case KS_DT_F32: case KS_DT_I32: case KS_DT_U32: return 4;
	case KS_DT_F64: case KS_DT_I64: case KS_DT_U64: return 8;
	default: return 0;
	}
}

/* ---- construction helpers (ks_graph.h) ------------------------------------ */

ks_model *ks_model_new(const char *path)
{
	ks_model *m = ks_xcalloc(1, sizeof *m);
	m->file = H5I_INVALID_HID;
	m->layer_index = ks_xcalloc(1, sizeof *m->layer_index);
	m->path = path ? ks_xstrdup(path) : NULL;
	return m;
}

json_t *ks_model_keep_json(ks_model *m, json_t *v)
{
	if (!v)
		return NULL;
	if (!m->owned_json)
		m->owned_json = json_array();
	json_array_append_new(m->owned_json, v);
	return v;
}

void ks_model_warn(ks_model *m, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (m->n_warnings >= 1000)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (!s)
		return;
	m->warnings = ks_xrealloc(m->warnings, (size_t)(m->n_warnings + 1) * sizeof *m->warnings);
	m->warnings[m->n_warnings++] = s;
}

static int64_t weight_numel(const ks_weight *w)
{
	int64_t n;
	return ks_numel(w->shape, w->rank, &n) ? n : 0;
}

static void sum_model(const ks_model *m, bool enclosing_trainable, int64_t *tot, int64_t *tr,
                      int64_t *bytes)
{
	for (int i = 0; i < m->n_layers; i++) {
		const ks_layer *L = &m->layers[i];
		bool lt = enclosing_trainable && L->trainable;
		for (int k = 0; k < L->n_weights; k++) {
			int64_t n = weight_numel(&L->weights[k]);
			*tot += n;
			if (lt && L->weights[k].trainable)
				*tr += n;
			*bytes += n * (int64_t)ks_dtype_size(L->weights[k].dtype);
		}
		if (L->inner)
			sum_model(L->inner, lt, tot, tr, bytes);
	}
}

void ks_model_count_params(ks_model *m)
{
	int64_t tot = 0, tr = 0, bytes = 0;

	for (int i = 0; i < m->n_layers; i++) {
		ks_layer *L = &m->layers[i];
		int64_t t2 = 0;
		if (L->inner)
			ks_model_count_params(L->inner);
		for (int k = 0; k < L->n_weights; k++)
			t2 += weight_numel(&L->weights[k]);
		if (L->inner)
			t2 += L->inner->total_params;
		L->params = t2;
	}
	sum_model(m, true, &tot, &tr, &bytes);
	m->total_params = tot;
	m->trainable_params = tr;
	m->non_trainable_params = tot - tr;
	m->weight_bytes = bytes;
	m->opt_params = 0;
	for (int k = 0; k < m->n_opt_weights; k++)
		m->opt_params += weight_numel(&m->opt_weights[k]);
}

/* ---- free ----------------------------------------------------------------- */

static void free_weights(ks_weight *w, int n)
{
	for (int k = 0; k < n; k++) {
		free(w[k].name);
		free(w[k].stored_name);
		free(w[k].h5_path);
		free(w[k].mem);
	}
	free(w);
}

void ks_model_free(ks_model *m)
{
	if (!m)
		return;
	for (int i = 0; i < m->n_layers; i++) {
		ks_layer *L = &m->layers[i];
		free(L->name);
		free(L->class_name);
		free(L->store_path);
		free_weights(L->weights, L->n_weights);
		for (int k = 0; k < L->n_nodes; k++)
			free(L->nodes[k].in);
		free(L->nodes);
		ks_model_free(L->inner);
	}
	free(m->layers);
	free(m->inputs);
	free(m->outputs);
	free_weights(m->opt_weights, m->n_opt_weights);
	free(m->opt_class);
	free(m->path);
	free(m->class_name);
	free(m->name);
	free(m->keras_version);
	free(m->backend);
	free(m->date_saved);
	json_decref(m->model_config);
	json_decref(m->training_config);
	json_decref(m->compile_config);
	json_decref(m->metadata);
	json_decref(m->owned_json);
	free(m->what);
	for (int i = 0; i < m->n_warnings; i++)
		free(m->warnings[i]);
	free(m->warnings);
	ks_loadmap_free(m->loadmap);
	if (m->layer_index)
		ks_index_free(m->layer_index);
	free(m->layer_index);
	/* The file must be closed before the image it may live in is released. */
	if (m->owns_file && m->file >= 0)
		H5Fclose(m->file);
	free(m->image);
	free(m);
}

int ks_model_check_claim(const ks_model *m, const ks_weight *w, const char *label,
                         const char *dset, ks_err *err)
{
	const ks_model *root = m;
	int64_t numel, claimed, esize = (int64_t)ks_dtype_size(w->dtype), have = -1;
	struct stat st;

	while (root->parent)
		root = root->parent;
	if (root->image_size > 0)
		have = (int64_t)root->image_size;
	else if (root->path && stat(root->path, &st) == 0)
		have = (int64_t)st.st_size;
	if (have >= 0 && ks_numel(w->shape, w->rank, &numel) &&
	    (__builtin_mul_overflow(numel, esize ? esize : 1, &claimed) ||
	     claimed / 64 > have + (1 << 20)))
		return ks_fail(err, "%s: %s claims %lld values, far more than the %lld-byte file can hold",
		               label, dset, (long long)numel, (long long)have);
	return 0;
}

/* ---- open ----------------------------------------------------------------- */

static bool ext_is(const char *path, const char *ext)
{
	size_t lp = strlen(path), le = strlen(ext);
	return lp >= le && strcasecmp(path + lp - le, ext) == 0;
}

/* Extensions lie (README: .keras files that are legacy HDF5): say so. */
static void note_extension(ks_model *m)
{
	bool zip = m->format == KS_FMT_KERAS3 || m->format == KS_FMT_KERAS2_ZIP;
	if (!m->path)
		return;
	if (!zip && ext_is(m->path, ".keras"))
		ks_model_warn(m, "the file is named .keras but is an HDF5 file (%s)",
		              ks_format_name(m->format));
	else if (zip && (ext_is(m->path, ".h5") || ext_is(m->path, ".hdf5")))
		ks_model_warn(m, "the file is named like HDF5 but is a .keras zip archive");
}

static bool is_zip(const unsigned char *head, ssize_t got)
{
	return got == 4 && head[0] == 'P' && head[1] == 'K' &&
	       ((head[2] == 3 && head[3] == 4) || (head[2] == 5 && head[3] == 6));
}

static ks_model *open_unprobed(const char *path, const ks_open_opts *opts,
                               const unsigned char *head, ssize_t got, ks_err *err)
{
	ks_model *m = ks_model_new(path);
	const ks_format_loader *f;
	bool zip = is_zip(head, got);
	int rc;

	if (!zip && ks_h5_sniff(path) < 0) {
		ks_model_free(m);
		ks_fail(err, "%s: not a Keras model file (neither HDF5 nor a zip archive)", path);
		return NULL;
	}
	if (!zip) {
		m->file = ks_h5_open_path(path, err);
		if (m->file < 0) {
			ks_model_free(m);
			return NULL;
		}
		m->owns_file = true;
	}
	for (f = ks_format_loaders; f->load; f++)
		if (f->container == (zip ? KS_CONTAINER_ZIP : KS_CONTAINER_H5) &&
		    (!f->detect || f->detect(m->file)))
			break;
	if (f->load) {
		rc = f->load(m, opts, err);
	} else if (zip) {
		rc = ks_fail(err, "%s: a zip archive, but not a Keras .keras file", path);
	} else {
		m->format = KS_FMT_PLAIN_H5;
		rc = 0;
	}
	if (rc < 0) {
		ks_model_free(m);
		return NULL;
	}
	note_extension(m);
	ks_model_count_params(m);
	return m;
}

/* ---- crash probe -----------------------------------------------------------
 * libhdf5 1.10 trusts a file's metadata: a damaged global heap or B-tree can
 * make it read out of bounds and crash (fuzzing real fixtures with a few
 * flipped bytes does so within dozens of tries). A crash there cannot be
 * caught in-process, so the metadata a session will touch (configs, names,
 * every weight's header and chunk index, the whole tree with its
 * attributes) is first walked in a forked child. If the child dies, the file
 * is refused with a message instead of taking the program down. */

static herr_t probe_attr(hid_t obj, const char *name, const H5A_info_t *info, void *ud)
{
	char *t;

	(void)info;
	(void)ud;
	if (ks_h5_attr_text(obj, ".", name, 64, &t, NULL) == 0)
		free(t);
	return 0;
}

/* Every object HDF5's own walk reaches: dataset headers and attributes. */
static herr_t probe_object(hid_t f, const char *name, const H5O_info_t *info, void *ud)
{
	(void)ud;
	if (info->type == H5O_TYPE_DATASET) {
		/* header, dataspace, type and (chunked) index */
		hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
		if (d >= 0) {
			hid_t sp = H5Dget_space(d), ty = H5Dget_type(d);
			(void)H5Dget_storage_size(d);
			if (sp >= 0)
				H5Sclose(sp);
			if (ty >= 0)
				H5Tclose(ty);
			H5Dclose(d);
		}
	}
	if (info->num_attrs > 0) {
		hid_t o = H5Oopen(f, name, H5P_DEFAULT);
		if (o >= 0) {
			hsize_t idx = 0;
			H5Aiterate2(o, H5_INDEX_NAME, H5_ITER_INC, &idx, probe_attr, NULL);
			H5Oclose(o);
		}
	}
	return 0;
}

/* Sanitizer builds reserve terabytes of address space for their shadow
 * memory: an address-space limit would fail every allocation there. */
#if defined(__SANITIZE_ADDRESS__)
#define KS_PROBE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KS_PROBE_ASAN 1
#endif
#endif

/* libhdf5 reports a failed allocation as an error of class H5E_RESOURCE:
 * the probe watches for it, since libhdf5 returns an error instead of
 * dying when the memory limit below refuses it. */
static bool probe_out_of_memory;

static herr_t probe_error_frame(unsigned n, const H5E_error2_t *e, void *ud)
{
	(void)n;
	(void)ud;
	if (e->maj_num == H5E_RESOURCE)
		probe_out_of_memory = true;
	return 0;
}

static herr_t probe_error(hid_t stack, void *ud)
{
	(void)ud;
	H5Ewalk2(stack, H5E_WALK_DOWNWARD, probe_error_frame, NULL);
	return 0;
}

/* Limits of the probe child. libhdf5 loops on some damaged structures (a
 * global heap, hard-link cycles) and allocates gigabytes on others (corrupt
 * variable-length strings), where h5dump gives up at once: a damaged file
 * must be refused within seconds. Walking the metadata of a sound file
 * takes milliseconds of CPU for ordinary models, but grows with the number
 * of objects: a 20,000-layer weights-only file (40,000 datasets, 60 MB)
 * takes about a second, and a .keras archive is loaded whole. So the CPU
 * allowance grows with the file (a second per 16 MB beyond the first two
 * seconds, at most 30), which keeps small damaged files (the usual fuzzing
 * finds) to two seconds without refusing big sound ones. The wall-clock
 * alarm covers a stalled disk and stays well above the CPU allowance, so
 * that a busy machine does not turn a slow probe into a verdict. */
#define KS_PROBE_CPU_SECONDS 2
#define KS_PROBE_CPU_MAX 30
#define KS_PROBE_BYTES_PER_SECOND ((uint64_t)16 << 20)

static void probe_limits(const char *path)
{
	struct stat st;
	uint64_t as = (uint64_t)1 << 30; /* libraries and metadata */
	uint64_t cpu = KS_PROBE_CPU_SECONDS;
	bool sized = stat(path, &st) == 0 && st.st_size > 0;

	if (sized)
		cpu += (uint64_t)st.st_size / KS_PROBE_BYTES_PER_SECOND;
	if (cpu > KS_PROBE_CPU_MAX)
		cpu = KS_PROBE_CPU_MAX;
	setrlimit(RLIMIT_CPU, &(struct rlimit){(rlim_t)cpu, (rlim_t)cpu + 1});
	alarm((unsigned)(4 * cpu + 8));
#ifndef KS_PROBE_ASAN
	/* A zip's weights file is held in memory: room for it, twice. */
	if (sized)
		as += 3 * (uint64_t)st.st_size;
	if (as < ks_mem_budget())
		setrlimit(RLIMIT_AS, &(struct rlimit){(rlim_t)as, (rlim_t)as});
#else
	(void)as;
#endif
}

static void probe_child(const char *path, const ks_open_opts *opts, const unsigned char *head,
                        ssize_t got)
{
	static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGALRM, SIGPIPE, SIGXCPU};
	ks_err e;
	ks_model *m;

	/* The UI's handlers (terminal restore) must not run in the child, and
	 * its expected crash must not leave a core file behind. */
	for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
		signal(fatal[i], SIG_DFL);
	setrlimit(RLIMIT_CORE, &(struct rlimit){0, 0});
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#ifndef KS_PROBE_ASAN
	{
		/* glibc reports heap corruption on stderr before aborting; the
		 * parent says it in one line instead. (Sanitizer builds keep
		 * stderr: a report from code that runs only here must show.) */
		int devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (devnull >= 0) {
			dup2(devnull, STDERR_FILENO);
			close(devnull);
		}
	}
#endif
	probe_limits(path);
	ks_hdf5_error_hook(probe_error);
	if (is_zip(head, got)) {
		/* The zip side is our own code up to the HDF5 image: load it all. */
		m = open_unprobed(path, opts, head, got, &e);
		if (m && m->file >= 0)
			H5Ovisit2(m->file, H5_INDEX_NAME, H5_ITER_INC, probe_object, NULL,
			          H5O_INFO_BASIC | H5O_INFO_NUM_ATTRS);
		ks_model_free(m);
	} else {
		/* A plain walk reaches every attribute and dataset header the
		 * loaders will touch, without their JSON and graph work: the
		 * probe is on the path of every open, so it must stay cheap. */
		hid_t f = ks_h5_sniff(path) >= 0 ? ks_h5_open_path(path, &e) : H5I_INVALID_HID;
		if (f >= 0) {
			H5Ovisit2(f, H5_INDEX_NAME, H5_ITER_INC, probe_object, NULL,
			          H5O_INFO_BASIC | H5O_INFO_NUM_ATTRS);
			/* Closing flushes HDF5's metadata cache, which frees what
			 * the damaged metadata built: it can crash too. */
			H5Fclose(f);
		}
	}
	_exit(probe_out_of_memory ? 3 : 0);
}

static bool probe_enabled(void)
{
	const char *e = getenv("KERASCOPE_NO_PROBE");
	return !(e && *e && strcmp(e, "0") != 0);
}

static int probe(const char *path, const ks_open_opts *opts, const unsigned char *head,
                 ssize_t got, ks_err *err)
{
	pid_t pid;
	int status;

	if (!probe_enabled())
		return 0;
	pid = fork();
	if (pid < 0)
		return 0; /* cannot probe: open directly */
	if (pid == 0)
		probe_child(path, opts, head, got);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return 0; /* reaped elsewhere (a SIGCHLD handler): no verdict */
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
		return ks_fail(err, "%s: damaged HDF5 structure (reading its metadata exhausts memory)",
		               path);
	if (WIFSIGNALED(status)) {
		if (WTERMSIG(status) == SIGALRM || WTERMSIG(status) == SIGXCPU)
			return ks_fail(err, "%s: damaged HDF5 structure (reading its metadata does not finish)",
			               path);
		return ks_fail(err, "%s: damaged HDF5 structure (the HDF5 library crashed reading it: %s)",
		               path, strsignal(WTERMSIG(status)));
	}
	return 0;
}

ks_model *ks_model_open(const char *path, const ks_open_opts *opts, ks_err *err)
{
	static const ks_open_opts none = {0};
	unsigned char head[4] = {0};
	struct stat st;
	ssize_t got;
	int fd;

	if (!opts)
		opts = &none;
	ks_quiet_hdf5();
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO must not block */
	if (fd < 0) {
		ks_fail(err, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		bool dir = S_ISDIR(st.st_mode);
		char *pb = ks_xasprintf("%s/saved_model.pb", path);
		close(fd);
		if (dir && access(pb, F_OK) == 0)
			ks_fail(err, "%s: a TensorFlow SavedModel directory, not a Keras .h5/.keras file", path);
		else
			ks_fail(err, "%s: %s", path, dir ? "is a directory" : "not a regular file");
		free(pb);
		return NULL;
	}
	got = read(fd, head, sizeof head);
	close(fd);
	if (got <= 0) {
		ks_fail(err, "%s: empty file", path);
		return NULL;
	}
	if (probe(path, opts, head, got, err) < 0)
		return NULL;
	return open_unprobed(path, opts, head, got, err);
}

/* ---- lookup ----------------------------------------------------------------- */

static const char *layer_name(const void *layers, int i)
{
	return ((const ks_layer *)layers)[i].name;
}

int ks_model_layer_index(const ks_model *m, const char *name)
{
	if (!m || !name)
		return -1;
	if (!m->layer_index) {
		for (int i = 0; i < m->n_layers; i++)
			if (m->layers[i].name && strcmp(m->layers[i].name, name) == 0)
				return i;
		return -1;
	}
	/* The index belongs to the model, not to the caller's view of it: the
	 * struct it points to is updated even through a const model. */
	if (m->layer_index->count > m->n_layers)
		ks_index_clear(m->layer_index);
	ks_index_extend(m->layer_index, m->layers, m->n_layers, layer_name);
	return ks_index_find(m->layer_index, m->layers, layer_name, name);
}

ks_layer *ks_model_find_layer(const ks_model *m, const char *name, bool deep)
{
	int at = ks_model_layer_index(m, name);

	if (at >= 0)
		return &m->layers[at];
	if (!m || !name)
		return NULL;
	if (deep)
		for (int i = 0; i < m->n_layers; i++) {
			ks_layer *L = ks_model_find_layer(m->layers[i].inner, name, true);
			if (L)
				return L;
		}
	return NULL;
}

/* "want" names the stored weight: the whole stored name or its last path
 * component, each with or without the ":N" suffix. */
static bool name_or_unsuffixed(const char *s, const char *want)
{
	size_t lw = strlen(want);
	const char *colon = strrchr(s, ':');
	return strcmp(s, want) == 0 ||
	       (colon && (size_t)(colon - s) == lw && memcmp(s, want, lw) == 0);
}

static bool stored_matches(const char *stored, const char *want)
{
	const char *slash = strrchr(stored, '/');
	return name_or_unsuffixed(stored, want) || (slash && slash[1] && name_or_unsuffixed(slash + 1, want));
}

static const ks_weight *find_in_layer(const ks_layer *L, const char *w)
{
	for (int k = 0; k < L->n_weights; k++)
		if (strcmp(L->weights[k].name, w) == 0)
			return &L->weights[k];
	for (int k = 0; k < L->n_weights; k++)
		if (L->weights[k].stored_name && stored_matches(L->weights[k].stored_name, w))
			return &L->weights[k];
	return NULL;
}

static const ks_weight *find_by_path(const ks_model *m, const char *path, const ks_layer **owner)
{
	for (int i = 0; i < m->n_layers; i++) {
		const ks_layer *L = &m->layers[i];
		for (int k = 0; k < L->n_weights; k++)
			if (L->weights[k].h5_path && strcmp(L->weights[k].h5_path, path) == 0) {
				*owner = L;
				return &L->weights[k];
			}
		if (L->inner) {
			const ks_weight *w = find_by_path(L->inner, path, owner);
			if (w)
				return w;
		}
	}
	return NULL;
}

static const ks_weight *find_spec(const ks_model *m, const char *spec, const ks_layer **owner)
{
	size_t ls = strlen(spec);
	/* Layer names may contain '/': try the longest matching name first. */
	for (size_t cut = ls; cut-- > 1;) {
		if (spec[cut] != '/')
			continue;
		for (int i = 0; i < m->n_layers; i++) {
			const ks_layer *L = &m->layers[i];
			const char *rest = spec + cut + 1;
			const ks_weight *w;
			if (strlen(L->name) != cut || memcmp(L->name, spec, cut) != 0)
				continue;
			if ((w = find_in_layer(L, rest))) {
				*owner = L;
				return w;
			}
			if (L->inner && (w = find_spec(L->inner, rest, owner)))
				return w;
		}
	}
	return NULL;
}

static const ks_weight *find_deep(const ks_model *m, const char *spec, const ks_layer **owner)
{
	const ks_weight *w = find_spec(m, spec, owner);
	if (w)
		return w;
	for (int i = 0; i < m->n_layers; i++)
		if (m->layers[i].inner && (w = find_deep(m->layers[i].inner, spec, owner)))
			return w;
	return NULL;
}

/* Optimizer slots belong to no layer: matched by HDF5 path, stored name or
 * the name `ls` shows ("Adam/dense/kernel/m"). */
static const ks_weight *find_optimizer(const ks_model *m, const char *spec)
{
	for (int i = 0; i < m->n_opt_weights; i++) {
		const ks_weight *o = &m->opt_weights[i];
		if (ks_str_eq(o->h5_path, spec) || ks_str_eq(o->stored_name, spec) ||
		    ks_str_eq(o->name, spec))
			return o;
	}
	return NULL;
}

const ks_weight *ks_model_find_weight(const ks_model *m, const char *spec, const ks_layer **owner)
{
	const ks_layer *dummy;
	const ks_weight *w;

	if (!owner)
		owner = &dummy;
	*owner = NULL;
	if (!m || !spec || !spec[0])
		return NULL;
	if (spec[0] == '/')
		w = find_by_path(m, spec, owner);
	else if (!(w = find_deep(m, spec, owner))) {
		/* An HDF5 path given without its leading '/'. */
		char *abs = ks_xasprintf("/%s", spec);
		w = find_by_path(m, abs, owner);
		free(abs);
	}
	return w ? w : find_optimizer(m, spec);
}

/* ---- "did you mean" ------------------------------------------------------ */

typedef struct names {
	char **v;
	size_t n;
} names;

static void names_add(names *l, char *s)
{
	if (l->n % 64 == 0)
		l->v = ks_xrealloc(l->v, sizeof(char *) * (l->n + 64));
	l->v[l->n++] = s;
}

/* Every layer as "prefix/name" (nested too) and, with weights, every weight
 * as "layer/weight". */
static void collect_names(const ks_model *m, const char *prefix, bool weights, names *l, int depth)
{
	for (int i = 0; m && depth < 16 && i < m->n_layers; i++) {
		const ks_layer *L = &m->layers[i];
		char *lp = prefix ? ks_xasprintf("%s/%s", prefix, L->name) : ks_xstrdup(L->name);
		if (weights) {
			for (int k = 0; k < L->n_weights; k++)
				names_add(l, ks_xasprintf("%s/%s", lp, L->weights[k].name));
			collect_names(L->inner, lp, weights, l, depth + 1);
			free(lp);
		} else {
			if (!prefix)
				collect_names(L->inner, NULL, weights, l, depth + 1);
			names_add(l, lp);
		}
	}
}

static const char *suggest(const ks_model *m, const char *word, bool weights, char *buf, size_t size)
{
	names l = {0};
	collect_names(m, NULL, weights, &l, 0);
	const char *near = ks_suggest(word, (const char *const *)l.v, l.n);
	if (near)
		snprintf(buf, size, "%s", near);
	for (size_t i = 0; i < l.n; i++)
		free(l.v[i]);
	free(l.v);
	return near ? buf : NULL;
}

const char *ks_model_suggest_layer(const ks_model *m, const char *name, char *buf, size_t size)
{
	return suggest(m, name, false, buf, size);
}

const char *ks_model_suggest_weight(const ks_model *m, const char *spec, char *buf, size_t size)
{
	return suggest(m, spec, true, buf, size);
}

/* ---- reading ------------------------------------------------------------- */

static const ks_model *root_of(const ks_model *m)
{
	while (m->parent)
		m = m->parent;
	return m;
}

static hid_t file_of(const ks_model *m)
{
	for (; m; m = m->parent)
		if (m->file >= 0)
			return m->file;
	return H5I_INVALID_HID;
}

static const char *path_of(const ks_model *m)
{
	const char *p = root_of(m)->path;
	return p ? p : "(model)";
}

static int check_stored_shape(const ks_model *m, const ks_weight *w, hid_t f, ks_err *err)
{
	int rank;
	int64_t dims[KS_MAX_RANK];
	ks_dtype dt;
	char a[96], b[96];

	if (ks_h5_dataset_info(f, w->h5_path, &rank, dims, &dt, err) < 0)
		return ks_err_prefix(err, "%s", path_of(m));
	if (rank != w->rank || memcmp(dims, w->shape, sizeof(int64_t) * (size_t)rank) != 0)
		return ks_fail(err, "%s: %s has shape %s in the file but %s was expected", path_of(m),
		               w->h5_path, ks_shape_str(dims, rank, a, sizeof a),
		               ks_shape_str(w->shape, w->rank, b, sizeof b));
	return 0;
}

int ks_weight_read(const ks_model *m, const ks_weight *w, float *dst, ks_err *err)
{
	int64_t n;
	hid_t f;

	if (!ks_numel(w->shape, w->rank, &n))
		return ks_fail(err, "%s: weight %s has an overflowing shape", path_of(m), w->name);
	if (w->mem) {
		if (n)
			memcpy(dst, w->mem, (size_t)n * sizeof *dst);
		return 0;
	}
	f = file_of(m);
	if (f < 0 || !w->h5_path)
		return ks_fail(err, "%s: weight %s has no stored data", path_of(m), w->name);
	if (check_stored_shape(m, w, f, err) < 0)
		return -1;
	if (ks_h5_read_f32(f, w->h5_path, dst, n, err) < 0)
		return ks_err_prefix(err, "%s", path_of(m));
	return 0;
}

/* Copies a box out of a dense row-major array (in-memory weights). */
static void copy_box(const float *src, const int64_t *shape, int rank, const int64_t *start,
                     const int64_t *count, float *dst)
{
	int64_t idx[KS_MAX_RANK] = {0}, total, stride[KS_MAX_RANK], s = 1;

	if (!ks_numel(count, rank, &total) || total == 0)
		return;
	for (int i = rank - 1; i >= 0; i--) {
		stride[i] = s;
		s *= shape[i];
	}
	for (int64_t o = 0; o < total; o++) {
		int64_t off = 0;
		for (int i = 0; i < rank; i++)
			off += (start[i] + idx[i]) * stride[i];
		dst[o] = src[off];
		for (int i = rank - 1; i >= 0; i--) {
			if (++idx[i] < count[i])
				break;
			idx[i] = 0;
		}
	}
}

int ks_weight_read_slab(const ks_model *m, const ks_weight *w, const int64_t *start,
                        const int64_t *count, float *dst, ks_err *err)
{
	hsize_t hs[KS_MAX_RANK], hc[KS_MAX_RANK], n1;
	int64_t total;
	hid_t f, d, fs, ms;
	herr_t st;

	for (int i = 0; i < w->rank; i++)
		if (start[i] < 0 || count[i] < 0 || start[i] > w->shape[i] ||
		    count[i] > w->shape[i] - start[i])
			return ks_fail(err, "%s: slab outside weight %s on axis %d", path_of(m), w->name, i);
	if (!ks_numel(count, w->rank, &total))
		return ks_fail(err, "%s: slab too large", path_of(m));
	if (total == 0)
		return 0;
	if (w->mem) {
		copy_box(w->mem, w->shape, w->rank, start, count, dst);
		return 0;
	}
	f = file_of(m);
	if (f < 0 || !w->h5_path)
		return ks_fail(err, "%s: weight %s has no stored data", path_of(m), w->name);
	if (check_stored_shape(m, w, f, err) < 0)
		return -1;
	if (w->dtype == KS_DT_BOOL || w->dtype == KS_DT_STRING || w->dtype == KS_DT_OTHER) {
		/* Rare: read the whole thing and cut. */
		float *all;
		int64_t n;
		if (!ks_numel(w->shape, w->rank, &n) || n > ((int64_t)1 << 31) ||
		    (uint64_t)n > ks_mem_budget() / sizeof *all || !(all = malloc((size_t)n * sizeof *all + 1)))
			return ks_fail(err, "%s: weight %s too large to read", path_of(m), w->name);
		if (ks_weight_read(m, w, all, err) < 0) {
			free(all);
			return -1;
		}
		copy_box(all, w->shape, w->rank, start, count, dst);
		free(all);
		return 0;
	}
	d = H5Dopen2(f, w->h5_path, H5P_DEFAULT);
	if (d < 0)
		return ks_fail(err, "%s: cannot open %s", path_of(m), w->h5_path);
	fs = H5Dget_space(d);
	for (int i = 0; i < w->rank; i++) {
		hs[i] = (hsize_t)start[i];
		hc[i] = (hsize_t)count[i];
	}
	n1 = (hsize_t)total;
	ms = H5Screate_simple(1, &n1, NULL);
	st = w->rank > 0 ? H5Sselect_hyperslab(fs, H5S_SELECT_SET, hs, NULL, hc, NULL) : 0;
	if (st >= 0)
		st = H5Dread(d, H5T_NATIVE_FLOAT, ms, fs, H5P_DEFAULT, dst);
	H5Sclose(ms);
	H5Sclose(fs);
	H5Dclose(d);
	if (st < 0)
		return ks_fail(err, "%s: reading part of %s failed", path_of(m), w->h5_path);
	return 0;
}

void ks_weight_reader_init(ks_weight_reader *r, const ks_model *m, const ks_weight *w)
{
	int64_t n;
	hid_t f = file_of(m);
	int rank;
	int64_t dims[KS_MAX_RANK];
	ks_dtype dt;

	*r = (ks_weight_reader){m, w, -1, NULL, 0};
	if (w->mem || f < 0 || !w->h5_path || w->rank < 0 || w->rank > KS_MAX_RANK ||
	    !ks_numel(w->shape, w->rank, &n) || n == 0)
		return;
	/* the stored shape must be the one the model declares, as every read
	 * checks (a lying shape goes to the careful path and its error) */
	if (ks_h5_dataset_info(f, w->h5_path, &rank, dims, &dt, NULL) < 0 || rank != w->rank ||
	    memcmp(dims, w->shape, sizeof(int64_t) * (size_t)rank) != 0)
		return;
	ks_h5_plain_f32(f, w->h5_path, n, &r->fd, &r->image, &r->offset);
}

int ks_weight_reader_slab(const ks_weight_reader *r, const int64_t *start, const int64_t *count,
                          float *dst, ks_err *err)
{
	const ks_weight *w = r->w;
	int64_t first = 0, total = 1, stride = 1;
	int k;

	if (r->fd < 0 && !r->image)
		goto careful;
	if (w->rank == 0)
		return ks_weight_read(r->m, w, dst, err);
	/* contiguous in C order: after the first axis with count > 1, every
	 * axis is whole */
	for (k = 0; k < w->rank && count[k] == 1; k++)
		;
	for (int i = k + 1; i < w->rank; i++)
		if (start[i] != 0 || count[i] != w->shape[i])
			goto careful;
	for (int i = w->rank - 1; i >= 0; i--) {
		if (start[i] < 0 || count[i] < 0 || start[i] > w->shape[i] ||
		    count[i] > w->shape[i] - start[i])
			goto careful; /* the careful path words the error */
		first += start[i] * stride;
		total *= count[i];
		stride *= w->shape[i];
	}
	if (total == 0)
		return 0;
	size_t bytes = (size_t)total * sizeof *dst;
	int64_t at = r->offset + first * (int64_t)sizeof *dst;
	if (r->image) {
		memcpy(dst, r->image + at, bytes);
		return 0;
	}
	for (size_t done = 0; done < bytes;) {
		ssize_t got = pread(r->fd, (char *)dst + done, bytes - done, (off_t)(at + (int64_t)done));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return ks_fail(err, "%s: reading %s failed: %s", path_of(r->m), w->h5_path,
			               got < 0 ? strerror(errno) : "the file is shorter than it was");
		done += (size_t)got;
	}
	return 0;
careful:
	return ks_weight_read_slab(r->m, w, start, count, dst, err);
}
