/* ks_doctor_config: the checks that read only configs (model, training,
 * compile): Lambda code, custom objects, the "accuracy" metric, training
 * flags, stateful RNNs, version-dependent meanings, loaders' compatibility,
 * class names and the loader's layout notes. */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks_doctor_int.h"
#include "ks_eval.h"
#include "ks_lambda.h"
#include "ks_plan.h"
#include "ks_util.h"

/* ---- walking layers (nested models included) ---- */

typedef void (*layer_fn)(dr_ctx *c, const ks_model *m, const ks_layer *L, const char *full, void *u);

static void each_layer(dr_ctx *c, const ks_model *m, const char *prefix, layer_fn fn, void *u)
{
	for (int i = 0; i < m->n_layers; i++) {
		const ks_layer *L = &m->layers[i];
		char *full = prefix ? ks_xasprintf("%s/%s", prefix, L->name) : ks_xstrdup(L->name);
		fn(c, m, L, full, u);
		if (L->inner)
			each_layer(c, L->inner, full, fn, u);
		free(full);
	}
}

static const char *jstr_or(const json_t *o, const char *key, const char *def)
{
	const json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : def;
}

/* "sparse_categorical_crossentropy" / "SparseCategoricalCrossentropy" -> "sparsecategoricalcrossentropy" */
static void norm(const char *s, char *out, size_t n)
{
	size_t k = 0;
	const char *gt = s ? strrchr(s, '>') : NULL;
	if (gt && strncmp(s, "Custom>", 7) == 0)
		s = gt + 1;
	for (; s && *s && k + 1 < n; s++)
		if (*s != '_')
			out[k++] = (char)tolower((unsigned char)*s);
	out[k] = '\0';
}

static bool in_list(const char *list, const char *name)
{
	char nm[128];
	size_t len;
	const char *p = list;
	norm(name, nm, sizeof nm);
	len = strlen(nm);
	if (!len)
		return false;
	while ((p = strstr(p, nm))) {
		if ((p == list || p[-1] == ' ') && (p[len] == ' ' || p[len] == '\0'))
			return true;
		p += len;
	}
	return false;
}

/* A graph to check: layers whose class the file names (not a bare
 * weights file, whose layers are all "?"). */
static bool has_arch(const ks_model *m)
{
	for (int i = 0; i < m->n_layers; i++)
		if (m->layers[i].class_name && strcmp(m->layers[i].class_name, "?") != 0)
			return true;
	return false;
}

/* ---- lambda-layer ---- */

static json_t *strv_json(char **v, int n)
{
	json_t *a = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

static char *joined(char **v, int n, int max)
{
	char *s = ks_xstrdup("");
	for (int i = 0; i < n && i < max; i++) {
		char *t = ks_xasprintf("%s%s%s", s, i ? ", " : "", v[i]);
		free(s);
		s = t;
	}
	if (n > max) {
		char *t = ks_xasprintf("%s, ... (%d in all)", s, n);
		free(s);
		s = t;
	}
	return s;
}

static void lambda_one(dr_ctx *c, const ks_model *m, const ks_layer *L, const char *full, void *u)
{
	const json_t *fn = json_object_get(L->config, "function");
	const json_t *codej = NULL;
	const char *code = NULL, *ftype = jstr_or(L->config, "function_type", NULL);
	const json_t *defaults = NULL, *closure = NULL;
	bool k3 = false;
	ks_finding *f;
	(void)u;
	(void)m;
	if (!L->class_name || strcmp(L->class_name, "Lambda") != 0)
		return;
	if (json_is_array(fn)) {
		codej = json_array_get(fn, 0);
		defaults = json_array_get(fn, 1);
		closure = json_array_get(fn, 2);
	} else if (json_is_object(fn) && strcmp(jstr_or(fn, "class_name", ""), "__lambda__") == 0) {
		const json_t *fc = json_object_get(fn, "config");
		codej = json_object_get(fc, "code");
		defaults = json_object_get(fc, "defaults");
		closure = json_object_get(fc, "closure");
		k3 = true;
	} else if (json_is_string(fn) && (!ftype || strcmp(ftype, "lambda") == 0)) {
		codej = fn;  /* Keras 1 */
	}
	code = json_string_value(codej);
	f = dr_add(c, "lambda-layer", KS_SEV_ERROR, full, NULL);
	json_object_set_new(f->details, "layer", json_string(full));
	if (!code) {
		/* a named function: stored by name, needs the module importable */
		const char *name = json_is_string(fn) ? json_string_value(fn)
		                 : jstr_or(fn, "config", jstr_or(fn, "class_name", "?"));
		const char *mod = jstr_or(L->config, "module", jstr_or(fn, "module", "?"));
		dr_set(&f->summary, "Lambda layer %s calls the Python function %s from module %s", full,
		       name, mod);
		dr_set(&f->evidence, "config.function = '%s', module '%s'", name, mod);
		dr_set(&f->fix, "define %s before loading and pass custom_objects={\"%s\": %s}; better, "
		       "replace the Lambda with a subclass of keras.layers.Layer registered with "
		       "@keras.saving.register_keras_serializable()", name, name, name);
		json_object_set_new(f->details, "function", json_string(name));
		return;
	}
	ks_lambda_info li;
	ks_err e;
	if (ks_lambda_decode(code, json_string_length(codej), &li, &e) < 0) {
		dr_set(&f->summary, "Lambda layer %s holds Python bytecode that cannot be decoded", full);
		dr_set(&f->evidence, "config.function: %s", e.msg);
		dr_set(&f->fix, "rebuild the layer in code (a registered keras.layers.Layer subclass) and "
		       "load the weights only");
		return;
	}
	char *names = joined(li.names, li.n_names, 12), *consts = joined(li.consts, li.n_consts, 8);
	char *args = joined(li.args, li.argcount, 8), *fv = joined(li.freevars, li.n_freevars, 8);
	bool has_closure = li.n_freevars > 0 || (closure && !json_is_null(closure));
	dr_set(&f->summary, "Lambda layer %s holds Python bytecode of %s%s%s", full, li.python,
	       li.source ? ": " : "", li.source ? li.source : "");
	dr_set(&f->evidence, "config.function%s: marshalled code object '%s' from %s, arguments (%s), "
	       "uses names [%s], constants [%s]%s%s%s", k3 ? ".config.code (Keras 3 __lambda__)" : "[0]",
	       li.name, li.filename, args, names, consts, has_closure ? ", captures [" : "",
	       has_closure ? fv : "", has_closure ? "] from an enclosing function" : "");
	dr_set(&f->fix, "load it only under %s with the same imports (%s%s), passing safe_mode=False "
	       "to keras.models.load_model in Keras 3 if you trust the file; better, rewrite the "
	       "function as a keras.layers.Layer subclass registered with "
	       "@keras.saving.register_keras_serializable(), rebuild the model and load the weights",
	       li.python, li.n_names ? names : "no globals", has_closure ? "; the captured values too" : "");
	json_object_set_new(f->details, "python_version", json_string(li.python));
	json_object_set_new(f->details, "python_min", json_string(li.version_min));
	json_object_set_new(f->details, "python_max", json_string(li.version_max));
	json_object_set_new(f->details, "function_name", json_string(li.name));
	json_object_set_new(f->details, "arguments", strv_json(li.args, li.argcount));
	json_object_set_new(f->details, "names", strv_json(li.names, li.n_names));
	json_object_set_new(f->details, "constants", strv_json(li.consts, li.n_consts));
	json_object_set_new(f->details, "freevars", strv_json(li.freevars, li.n_freevars));
	json_object_set_new(f->details, "closure", json_boolean(has_closure));
	json_object_set_new(f->details, "defaults", json_boolean(defaults && !json_is_null(defaults)));
	json_object_set_new(f->details, "lambda_source", li.source ? json_string(li.source) : json_null());
	json_object_set_new(f->details, "format", json_string(k3 ? "keras3 __lambda__" : "func_dump list"));
	free(names);
	free(consts);
	free(args);
	free(fv);
	ks_lambda_info_free(&li);
}

int dr_check_lambda(dr_ctx *c)
{
	if (!has_arch(c->in->a))
		return dr_skip(c, "the file has no architecture");
	each_layer(c, c->in->a, NULL, lambda_one, NULL);
	return 0;
}

/* ---- custom-object ---- */

/* Keras built-ins, compared after dropping '_' and case ("GlorotUniform" ==
 * "glorot_uniform"). Keras 3 exports, tf.keras 2 and Keras 1 additions. */
static const char builtin_layers[] =
	"activation activityregularization adaptiveaveragepooling1d adaptiveaveragepooling2d "
	"adaptiveaveragepooling3d adaptivemaxpooling1d adaptivemaxpooling2d adaptivemaxpooling3d add "
	"additiveattention alphadropout attention augmix autocontrast average averagepooling1d "
	"averagepooling2d averagepooling3d avgpool1d avgpool2d avgpool3d batchnormalization "
	"bidirectional categoryencoding centercrop concatenate conv1d conv1dtranspose conv2d "
	"conv2dtranspose conv3d conv3dtranspose convlstm1d convlstm2d convlstm3d convolution1d "
	"convolution1dtranspose convolution2d convolution2dtranspose convolution3d "
	"convolution3dtranspose cropping1d cropping2d cropping3d cutmix dense depthwiseconv1d "
	"depthwiseconv2d discretization dot dropout elu einsumdense embedding equalization flatten "
	"gru grucell gaussiandropout gaussiannoise globalaveragepooling1d globalaveragepooling2d "
	"globalaveragepooling3d globalavgpool1d globalavgpool2d globalavgpool3d globalmaxpool1d "
	"globalmaxpool2d globalmaxpool3d globalmaxpooling1d globalmaxpooling2d globalmaxpooling3d "
	"groupnormalization groupqueryattention hashedcrossing hashing identity inputlayer "
	"integerlookup lstm lstmcell lambda layernormalization leakyrelu masking maxpool1d maxpool2d "
	"maxpool3d maxpooling1d maxpooling2d maxpooling3d maximum melspectrogram minimum mixup "
	"multiheadattention multiply normalization prelu permute pipeline rmsnormalization rnn "
	"randaugment randombrightness randomcolordegeneration randomcolorjitter randomcontrast "
	"randomcrop randomelastictransform randomerasing randomflip randomgaussianblur "
	"randomgrayscale randomhue randominvert randomperspective randomposterization randomrotation "
	"randomsaturation randomsharpness randomshear randomtranslation randomzoom relu repeatvector "
	"rescaling reshape resizing reversibleembedding stftspectrogram separableconv1d "
	"separableconv2d separableconvolution1d separableconvolution2d simplernn simplernncell "
	"softmax solarization spatialdropout1d spatialdropout2d spatialdropout3d "
	"spectralnormalization stackedrnncells stringlookup subtract textvectorization "
	"timedistributed unitnormalization upsampling1d upsampling2d upsampling3d wrapper "
	"zeropadding1d zeropadding2d zeropadding3d "
	/* models */
	"functional sequential model "
	/* tf.keras 2 */
	"tfoplambda slicingoplambda tensorflowoplayer cudnnlstm cudnngru locallyconnected1d "
	"locallyconnected2d thresholdedrelu densefeatures peepholelstmcell abstractrnncell "
	"randomheight randomwidth categorycrossing syncbatchnormalization randomfourierfeatures "
	"convlstm2dcell convrnn2d "
	/* Keras 1 */
	"merge highway maxoutdense timedistributeddense atrousconvolution1d atrousconvolution2d "
	"deconvolution2d deconvolution3d cropping "
	/* Keras 2.0-2.2 standalone */
	"lambdacallback";
static const char builtin_losses[] =
	"binarycrossentropy binaryfocalcrossentropy ctc categoricalcrossentropy "
	"categoricalfocalcrossentropy categoricalgeneralizedcrossentropy categoricalhinge circle "
	"cosinesimilarity dice hinge huber kldivergence logcosh meanabsoluteerror "
	"meanabsolutepercentageerror meansquarederror meansquaredlogarithmicerror poisson "
	"sparsecategoricalcrossentropy squaredhinge tversky "
	"mse mae mape msle kld kullbackleiblerdivergence huberloss cosineproximity cosine bce cce "
	"lossfunctionwrapper";
static const char builtin_metrics[] =
	"auc accuracy acc binaryaccuracy binaryiou categoricalaccuracy concordancecorrelation "
	"f1score fbetascore falsenegatives falsepositives iou logcosherror mean meaniou "
	"meanmetricwrapper onehotiou onehotmeaniou pearsoncorrelation precision precisionatrecall "
	"r2score recall recallatprecision rootmeansquarederror sensitivityatspecificity "
	"sparsecategoricalaccuracy sparsetopkcategoricalaccuracy specificityatsensitivity sum "
	"topkcategoricalaccuracy truenegatives truepositives ce crossentropy meantensor "
	"sparsecategoricalcrossentropy";
static const char builtin_optimizers[] =
	"adadelta adafactor adagrad adam adamw adamax ftrl lamb lion lossscaleoptimizer "
	"lossscaleoptimizerv3 muon nadam optimizer rmsprop sgd schedulefreeadamw tfoptimizer";
static const char builtin_initializers[] =
	"constant glorotnormal glorotuniform henormal heuniform identity lecunnormal lecununiform "
	"ones orthogonal randomnormal randomuniform truncatednormal variancescaling zeros zero one "
	"uniform normal stft stftinitializer identityinitializer orthogonalinitializer";
static const char builtin_regularizers[] = "l1 l2 l1l2 orthogonalregularizer";
static const char builtin_constraints[] =
	"maxnorm minmaxnorm nonneg unitnorm radialconstraint";
static const char builtin_activations[] =
	"celu elu exponential gelu glu hardshrink hardsigmoid hardsilu hardswish hardtanh leakyrelu "
	"linear logsigmoid logsoftmax mish relu relu6 selu sigmoid silu softshrink softmax softplus "
	"softsign sparseplus sparsesigmoid sparsemax squareplus swish tanh tanhshrink threshold none";

typedef struct custom_acc {
	json_t *by_kind;    /* kind -> [names] */
	json_t *all;        /* [names] in order, unique */
	json_t *where;      /* [ "config path: name" ] */
	bool in_model;      /* some name is needed to build the model itself */
} custom_acc;

static void note_custom(custom_acc *a, const char *kind, const char *name, const char *path,
                        bool model_part)
{
	json_t *lst = json_object_get(a->by_kind, kind);
	size_t i;
	json_t *v;
	if (model_part)
		a->in_model = true;
	if (!lst) {
		lst = json_array();
		json_object_set_new(a->by_kind, kind, lst);
	}
	/* the first place each name is used, and how many places in all */
	json_array_foreach(a->all, i, v)
		if (strcmp(json_string_value(v), name) == 0) {
			json_t *w = json_array_get(a->where, i);
			json_object_set_new(w, "count", json_integer(json_integer_value(json_object_get(w, "count")) + 1));
			return;
		}
	json_array_append_new(a->all, json_string(name));
	json_array_append_new(lst, json_string(name));
	json_t *w = json_object();
	json_object_set_new(w, "text", json_sprintf("%s %s at %s", kind, name, path));
	json_object_set_new(w, "count", json_integer(1));
	json_array_append_new(a->where, w);
}

static const char *kind_list(const char *kind)
{
	static const struct {
		const char *kind, *list;
	} lists[] = {
		{"layer", builtin_layers}, {"loss", builtin_losses}, {"optimizer", builtin_optimizers},
		{"initializer", builtin_initializers}, {"regularizer", builtin_regularizers},
		{"constraint", builtin_constraints}, {"activation", builtin_activations},
	};
	for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
		if (!strcmp(kind, lists[i].kind))
			return lists[i].list;
	return NULL;
}

/* Is a serialized object (class_name, module, registered_name) a Keras built-in? */
static bool is_builtin(const char *kind, const char *cls, const char *module, const char *reg)
{
	/* Keras 3 records where a class lives: anything outside keras is user code */
	if (module && strncmp(module, "keras", 5) != 0 && strncmp(module, "tf_keras", 8) != 0 &&
	    strncmp(module, "tensorflow", 10) != 0 && strcmp(module, "builtins") != 0)
		return false;
	/* "pkg>Name": registered by user code, unless it is tf.keras 2.11+'s
	 * "Custom>Adam" spelling of a built-in */
	if (reg && strchr(reg, '>') && strncmp(reg, "Custom>", 7) != 0 && strncmp(reg, "keras", 5) != 0)
		return false;
	if (!strcmp(kind, "metric"))
		return in_list(builtin_metrics, cls) || in_list(builtin_losses, cls);
	if (!strcmp(kind, "loss"))
		return in_list(builtin_losses, cls) || in_list(builtin_metrics, cls);
	const char *list = kind_list(kind);
	return !list || in_list(list, cls);
}

static const char *kind_of_key(const char *key)
{
	if (!key)
		return NULL;
	if (ks_str_endswith(key, "_initializer") || !strcmp(key, "init") || !strcmp(key, "inner_init"))
		return "initializer";
	if (ks_str_endswith(key, "_regularizer"))
		return "regularizer";
	if (ks_str_endswith(key, "_constraint"))
		return "constraint";
	if (!strcmp(key, "activation") || !strcmp(key, "recurrent_activation") ||
	    !strcmp(key, "inner_activation"))
		return "activation";
	if (!strcmp(key, "layers") || !strcmp(key, "layer") || !strcmp(key, "cell") ||
	    !strcmp(key, "backward_layer") || !strcmp(key, "forward_layer") || !strcmp(key, "cells"))
		return "layer";
	return NULL;
}

/* Walks a serialized value; kind is what the enclosing key says it holds. */
static void scan_obj(custom_acc *a, const json_t *v, const char *kind, const char *path, int depth,
                     bool model_part)
{
	if (depth > 64)
		return;
	if (json_is_string(v) && kind && strcmp(kind, "layer") != 0) {
		const char *s = json_string_value(v);
		if (!is_builtin(kind, s, NULL, NULL))
			note_custom(a, kind, s, path, model_part);
		return;
	}
	if (json_is_array(v)) {
		size_t i;
		const json_t *x;
		json_array_foreach(v, i, x) {
			char *p = ks_xasprintf("%s[%zu]", path, i);
			scan_obj(a, x, kind, p, depth + 1, model_part);
			free(p);
		}
		return;
	}
	if (!json_is_object(v))
		return;
	const char *cls = jstr_or(v, "class_name", NULL);
	if (cls && kind && (json_object_get(v, "config") || strcmp(kind, "layer") != 0)) {
		const char *mod = jstr_or(v, "module", NULL), *reg = jstr_or(v, "registered_name", NULL);
		/* Keras 3 functions: {"class_name": "function", "config": "relu"} */
		if (!strcmp(cls, "function") && json_is_string(json_object_get(v, "config")))
			cls = json_string_value(json_object_get(v, "config"));
		if (strcmp(cls, "__lambda__") != 0 && !is_builtin(kind, cls, mod, reg))
			note_custom(a, kind, reg && strchr(reg, '>') ? reg : cls, path, model_part);
	}
	const char *key;
	const json_t *x;
	/* a plain dict inside a loss/metric spec maps outputs to specs */
	bool container = !cls && kind && strcmp(kind, "layer") != 0;
	json_object_foreach((json_t *)v, key, x) {
		const char *k2 = kind_of_key(key);
		if (!strcmp(key, "dtype") || !strcmp(key, "build_config") || !strcmp(key, "compile_config"))
			continue;
		if (!k2 && container)
			k2 = kind;
		char *p = ks_xasprintf("%s.%s", path, key);
		scan_obj(a, x, k2, p, depth + 1, model_part);
		free(p);
	}
}

static void scan_metrics(custom_acc *a, const json_t *v, const char *path)
{
	scan_obj(a, v, "metric", path, 0, false);
}

int dr_check_custom(dr_ctx *c)
{
	const ks_model *m = c->in->a;
	custom_acc a = {json_object(), json_array(), json_array(), false};
	const json_t *tc = m->training_config, *cc = m->compile_config;

	if (!m->model_config && !tc && !cc) {
		json_decref(a.by_kind);
		json_decref(a.all);
		json_decref(a.where);
		return dr_skip(c, "the file has no model, training or compile configuration");
	}
	if (m->model_config) {
		/* the model itself: its class and every layer's */
		const char *mc = jstr_or(m->model_config, "class_name", NULL);
		if (mc && !is_builtin("layer", mc, jstr_or(m->model_config, "module", NULL),
		                      jstr_or(m->model_config, "registered_name", NULL)))
			note_custom(&a, "layer", mc, "model_config.class_name", true);
		scan_obj(&a, json_object_get(m->model_config, "config"), NULL, "model_config.config", 0, true);
	}
	const json_t *t = tc ? tc : cc;
	if (t) {
		const char *root = tc ? "training_config" : "compile_config";
		char p[64];
		snprintf(p, sizeof p, "%s.loss", root);
		scan_obj(&a, json_object_get(t, "loss"), "loss", p, 0, false);
		snprintf(p, sizeof p, "%s.metrics", root);
		scan_metrics(&a, json_object_get(t, "metrics"), p);
		snprintf(p, sizeof p, "%s.weighted_metrics", root);
		scan_metrics(&a, json_object_get(t, "weighted_metrics"), p);
		const json_t *opt = tc ? json_object_get(tc, "optimizer_config") : json_object_get(cc, "optimizer");
		snprintf(p, sizeof p, "%s.%s", root, tc ? "optimizer_config" : "optimizer");
		scan_obj(&a, opt, "optimizer", p, 0, false);
	}
	if (json_array_size(a.all) > 0) {
		ks_finding *f = dr_add(c, "custom-object", KS_SEV_ERROR, NULL, NULL);
		char *dict = ks_xstrdup(""), *names = ks_xstrdup(""), *where = ks_xstrdup("");
		size_t i;
		json_t *v;
		json_array_foreach(a.all, i, v) {
			const char *n = json_string_value(v), *py = strrchr(n, '>') ? strrchr(n, '>') + 1 : n;
			char *t2 = ks_xasprintf("%s%s\"%s\": %s", dict, i ? ", " : "", n, py);
			free(dict);
			dict = t2;
			t2 = ks_xasprintf("%s%s%s", names, i ? ", " : "", n);
			free(names);
			names = t2;
		}
		json_array_foreach(a.where, i, v) {
			json_int_t cnt = json_integer_value(json_object_get(v, "count"));
			char more[48] = "";
			if (cnt > 1)
				snprintf(more, sizeof more, " (and %lld more)", (long long)(cnt - 1));
			char *t2 = ks_xasprintf("%s%s%s%s", where, i ? "; " : "",
			                        json_string_value(json_object_get(v, "text")), more);
			free(where);
			where = t2;
		}
		dr_set(&f->summary, "the file needs %zu object%s that Keras does not have: %s",
		       json_array_size(a.all), json_array_size(a.all) == 1 ? "" : "s", names);
		dr_set(&f->evidence, "%s", where);
		if (a.in_model)
			dr_set(&f->fix, "import the code that defines them and load with "
			       "keras.models.load_model(path, custom_objects={%s}); compile=False does not "
			       "avoid it (the model itself uses some of them)", dict);
		else
			dr_set(&f->fix, "they are used only by the training configuration: "
			       "keras.models.load_model(path, compile=False) loads without them (then compile "
			       "again), or pass custom_objects={%s}", dict);
		json_object_set_new(f->details, "custom", json_deep_copy(a.all));
		json_object_set_new(f->details, "custom_by_kind", json_deep_copy(a.by_kind));
		json_object_set_new(f->details, "custom_objects", json_string(dict));
		json_object_set_new(f->details, "compile_false_suffices", json_boolean(!a.in_model));
		free(dict);
		free(names);
		free(where);
	}
	json_decref(a.by_kind);
	json_decref(a.all);
	json_decref(a.where);
	return 0;
}

/* ---- ambiguous-accuracy ---- */

/* The loss spec's name, normalised, for output o (name oname) or NULL. */
static const char *loss_for(const json_t *loss, int o, const char *oname)
{
	if (json_is_object(loss) && !json_object_get(loss, "class_name"))
		loss = json_object_get(loss, oname);
	else if (json_is_array(loss))
		loss = json_array_get(loss, (size_t)o);
	if (json_is_string(loss))
		return json_string_value(loss);
	if (json_is_object(loss))
		return jstr_or(loss, "class_name", NULL);
	return NULL;
}

static const json_t *metrics_for(const json_t *metrics, int o, const char *oname, int n_out)
{
	if (json_is_object(metrics))
		return json_object_get(metrics, oname);
	/* a list of lists is per output; a flat list applies to every output */
	if (json_is_array(metrics) && n_out > 1 && json_array_size(metrics) == (size_t)n_out &&
	    json_is_array(json_array_get(metrics, 0)))
		return json_array_get(metrics, (size_t)o);
	return metrics;
}

static const char *bare_accuracy(const json_t *lst)
{
	size_t i;
	const json_t *v;
	if (json_is_string(lst))
		lst = NULL;
	json_array_foreach(lst, i, v) {
		const char *s = json_string_value(v);
		if (s && (!strcmp(s, "accuracy") || !strcmp(s, "acc")))
			return s;
	}
	return NULL;
}

static const char *act_name(const ks_layer *L)
{
	const json_t *a = json_object_get(L->config, "activation");
	if (json_is_object(a))
		a = json_object_get(a, "config");
	return json_is_string(a) ? json_string_value(a) : "linear";
}

int dr_check_accuracy(dr_ctx *c)
{
	const ks_model *m = c->in->a;
	const json_t *t = m->training_config ? m->training_config : m->compile_config;
	const char *root = m->training_config ? "training_config" : "compile_config";
	ks_shape *shapes;

	if (!t)
		return dr_skip(c, "the file has no training or compile configuration");
	shapes = ks_xcalloc((size_t)(m->n_layers ? m->n_layers : 1), sizeof *shapes);
	ks_infer_layer_shapes(m, shapes);
	for (int o = 0; o < m->n_outputs; o++) {
		int li = m->outputs[o].layer;
		if (li < 0 || li >= m->n_layers)
			continue;
		const ks_layer *L = &m->layers[li];
		const char *which = NULL, *key = "metrics";
		for (int pass = 0; pass < 2 && !which; pass++) {
			key = pass ? "weighted_metrics" : "metrics";
			which = bare_accuracy(metrics_for(json_object_get(t, key), o, L->name, m->n_outputs));
		}
		if (!which)
			continue;
		const char *loss = loss_for(json_object_get(t, "loss"), o, L->name);
		int64_t units = shapes[li].rank > 0 ? shapes[li].d[shapes[li].rank - 1] : -1;
		int prank = shapes[li].rank > 0 ? shapes[li].rank : 2;
		const char *act = act_name(L), *now, *old, *depends = NULL;
		ks_loss_kind lk = loss ? ks_eval_loss_kind(loss) : KS_LOSS_NONE;
		bool assumed;
		ks_acc_rule rule = ks_eval_rule_of(m->keras_version, &assumed);
		/* The shape rule (tf.keras 2.2+, Keras 3) looks at the labels: the
		 * loss fixes their format for the cross-entropies; otherwise both
		 * integer ids and one-hot rows are possible. */
		ks_acc_kind by_ids = ks_eval_resolve(KS_RULE_SHAPE_BASED, lk, prank - 1, units, prank, units);
		ks_acc_kind by_rows = ks_eval_resolve(KS_RULE_SHAPE_BASED, lk, prank, units, prank, units);
		ks_acc_kind shaped = lk == KS_LOSS_SCCE ? by_ids : by_rows;
		ks_acc_kind by_loss = ks_eval_resolve(KS_RULE_LOSS_BASED, lk, prank, units, prank, units);
		now = ks_acc_metric_name(rule == KS_RULE_LOSS_BASED ? by_loss : shaped);
		old = ks_acc_metric_name(rule == KS_RULE_LOSS_BASED ? shaped : by_loss);
		if (rule == KS_RULE_SHAPE_BASED && lk != KS_LOSS_SCCE && lk != KS_LOSS_CCE &&
		    lk != KS_LOSS_BCE && by_ids != by_rows)
			depends = "the loss does not fix the label format: integer labels give "
			          "sparse_categorical_accuracy, one-hot labels categorical_accuracy";
		else if (lk == KS_LOSS_BCE && units > 1)
			depends = "with binary_crossentropy over several units (multi-label), tf.keras 2.2+ "
			          "and Keras 3 compute categorical_accuracy (argmax agreement), not the "
			          "per-unit binary_accuracy that Keras 2.0-2.3 computed";
		ks_finding *f = dr_add(c, "ambiguous-accuracy", KS_SEV_WARNING, L->name, NULL);
		dr_set(&f->summary, "the metric \"%s\" of the output layer %s resolves to %s%s", which, L->name, now,
		       depends ? ", depending on the labels" : "");
		dr_set(&f->evidence, "%s.%s contains \"%s\"; loss %s; output layer %s has %lld unit%s, "
		       "activation %s", root, key, which, loss ? loss : "(none)", L->name, (long long)units,
		       units == 1 ? "" : "s", act);
		if (depends)
			dr_set(&f->fix, "name the metric explicitly: metrics=[\"%s\"] (or the one that matches "
			       "your labels); %s", now, depends);
		else if (strcmp(old, now) != 0)
			dr_set(&f->fix, "name the metric explicitly: metrics=[\"%s\"] (%s: there it is %s)", now,
			       ks_rule_desc(rule == KS_RULE_LOSS_BASED ? KS_RULE_SHAPE_BASED : KS_RULE_LOSS_BASED),
			       old);
		else
			dr_set(&f->fix, "name the metric explicitly: metrics=[\"%s\"]", now);
		json_object_set_new(f->details, "metric", json_string(which));
		json_object_set_new(f->details, "loss", loss ? json_string(loss) : json_null());
		json_object_set_new(f->details, "output_activation", json_string(act));
		json_object_set_new(f->details, "output_units", json_integer(units));
		json_object_set_new(f->details, "resolves_to", json_string(now));
		json_object_set_new(f->details, "resolves_to_other_rule", json_string(old));
		json_object_set_new(f->details, "rule", json_string(ks_rule_desc(rule)));
		json_object_set_new(f->details, "depends_on_labels", json_boolean(depends != NULL));
	}
	free(shapes);
	return 0;
}

/* ---- training-flag ---- */

static void training_one(dr_ctx *c, const ks_model *m, const ks_layer *L, const char *full, void *u)
{
	(void)m;
	(void)u;
	for (int n = 0; n < L->n_nodes; n++) {
		const json_t *tr = json_object_get(L->nodes[n].kwargs, "training");
		if (!json_is_true(tr))
			continue;
		ks_finding *f = dr_add(c, "training-flag", KS_SEV_WARNING, full, NULL);
		bool k3 = ks_model_keras_major(c->in->a) >= 3;
		dr_set(&f->summary, "layer %s (%s) was called with training=True: predict() %s", full,
		       L->class_name, !strcmp(L->class_name, "BatchNormalization")
		       ? "normalises with each batch's own statistics"
		       : "is random (the layer stays in training mode)");
		dr_set(&f->evidence, "inbound node %d of %s stores the call kwargs {\"training\": true} (%s)", n,
		       full, k3 ? "Keras 3 node kwargs" : "4th element of the Keras 2 node entry");
		dr_set(&f->fix, "rebuild the model calling the layer without training=True (or with "
		       "training=False) and load the weights; for Monte-Carlo dropout on purpose, average "
		       "several predictions and fix the seed");
		json_object_set_new(f->details, "layer", json_string(full));
		json_object_set_new(f->details, "class_name", json_string(L->class_name));
		json_object_set_new(f->details, "node", json_integer(n));
		const json_t *rate = json_object_get(L->config, "rate");
		if (json_is_number(rate))
			json_object_set_new(f->details, "rate", json_real(json_number_value(rate)));
		break;
	}
}

int dr_check_training_flag(dr_ctx *c)
{
	if (!has_arch(c->in->a))
		return dr_skip(c, "the file has no architecture");
	each_layer(c, c->in->a, NULL, training_one, NULL);
	return 0;
}

/* ---- stateful-rnn ---- */

static const json_t *wrapped_cfg(const json_t *cfg)
{
	const json_t *in = json_object_get(cfg, "layer");
	return json_is_object(in) ? json_object_get(in, "config") : NULL;
}

static void stateful_one(dr_ctx *c, const ks_model *m, const ks_layer *L, const char *full, void *u)
{
	const json_t *cfg = L->config;
	(void)u;
	if (!json_is_true(json_object_get(cfg, "stateful")))
		cfg = wrapped_cfg(L->config);
	if (!json_is_true(json_object_get(cfg, "stateful")))
		return;
	ks_finding *f = dr_add(c, "stateful-rnn", KS_SEV_WARNING, full, NULL);
	ks_shape in;
	char sb[96] = "unknown";
	ks_err e;
	const json_t *bis = json_object_get(L->config, "batch_input_shape");
	if (!json_is_array(bis))
		bis = json_object_get(L->config, "batch_shape");
	if (json_is_array(bis)) {
		char *t = json_dumps(bis, JSON_COMPACT);
		snprintf(sb, sizeof sb, "%s", t);
		free(t);
		json_object_set(f->details, "batch_input_shape", (json_t *)bis);
	} else if (m->n_inputs > 0 && ks_model_input_shape(m, 0, &in, &e) == 0) {
		dr_shape(in.d, in.rank, sb, sizeof sb);
	}
	dr_set(&f->summary, "%s (%s) is stateful: each predict() starts from the state the previous "
	       "call left", full, L->class_name);
	dr_set(&f->evidence, "config.stateful = true; batch input shape %s", sb);
	dr_set(&f->fix, "call model.reset_states() (Keras 3: layer.reset_state()) before each "
	       "independent prediction, or rebuild the layer with stateful=False and load the weights "
	       "for batch-size-free predictions");
	json_object_set_new(f->details, "layer", json_string(full));
}

int dr_check_stateful(dr_ctx *c)
{
	if (!has_arch(c->in->a))
		return dr_skip(c, "the file has no architecture");
	each_layer(c, c->in->a, NULL, stateful_one, NULL);
	return 0;
}

/* ---- keras-version-semantics ---- */

typedef struct sem_acc {
	json_t *hits;   /* [{layer, key, value}] */
} sem_acc;

static void sem_cfg(sem_acc *a, const char *full, const json_t *cfg, const char *cls)
{
	static const char *const keys[] = {"activation", "recurrent_activation", "inner_activation"};
	for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
		const json_t *v = json_object_get(cfg, keys[k]);
		if (json_is_object(v))
			v = json_object_get(v, "config");
		if (json_is_string(v) && !strcmp(json_string_value(v), "hard_sigmoid")) {
			json_t *h = json_object();
			json_object_set_new(h, "layer", json_string(full));
			json_object_set_new(h, "class_name", json_string(cls ? cls : "?"));
			json_object_set_new(h, "key", json_string(keys[k]));
			json_object_set_new(h, "value", json_string("hard_sigmoid"));
			json_array_append_new(a->hits, h);
		}
	}
}

static void sem_one(dr_ctx *c, const ks_model *m, const ks_layer *L, const char *full, void *u)
{
	(void)c;
	(void)m;
	sem_cfg(u, full, L->config, L->class_name);
	const json_t *w = wrapped_cfg(L->config);
	if (w)
		sem_cfg(u, full, w, L->class_name);
	const json_t *cell = json_object_get(json_object_get(L->config, "cell"), "config");
	if (cell)
		sem_cfg(u, full, cell, L->class_name);
}

/* Largest |difference| of the outputs computed with Keras 2 and Keras 3
 * semantics on the given input; -1 when the model cannot run. */
static double semantics_delta(dr_ctx *c, char *why, size_t wn)
{
	const ks_model *m = c->in->a;
	ks_shape shapes[KS_MAX_IO];
	const float *ins[KS_MAX_IO];
	ks_plan *p[2] = {NULL, NULL};
	double worst = -1;
	ks_err e;

	if (c->in->n_inputs != m->n_inputs || m->n_inputs > KS_MAX_IO)
		return -1;
	for (int i = 0; i < m->n_inputs; i++) {
		shapes[i].rank = c->in->inputs[i].rank;
		memcpy(shapes[i].d, c->in->inputs[i].shape, sizeof(int64_t) * (size_t)shapes[i].rank);
		ins[i] = c->in->inputs[i].data;
	}
	for (int k = 0; k < 2; k++) {
		ks_plan_opts o = {.input_shapes = shapes, .n_input_shapes = m->n_inputs,
		                  .keras_major = k ? 3 : ks_model_keras_major(m)};
		if (!(p[k] = ks_plan_build(m, &o, &e))) {
			snprintf(why, wn, "%s", e.msg);
			goto out;
		}
		ks_plan_run(p[k], ins);
	}
	worst = 0;
	for (int o = 0; o < ks_plan_n_outputs(p[0]); o++) {
		int64_t n = ks_shape_numel(ks_plan_output_shape(p[0], o));
		const float *a = ks_plan_output(p[0], o), *b = ks_plan_output(p[1], o);
		for (int64_t i = 0; i < n; i++) {
			double d = fabs((double)a[i] - (double)b[i]);
			if (d > worst || isnan(d))
				worst = isnan(d) ? INFINITY : d;
		}
	}
out:
	ks_plan_free(p[0]);
	ks_plan_free(p[1]);
	return worst;
}

int dr_check_version_semantics(dr_ctx *c)
{
	const ks_model *m = c->in->a;
	sem_acc a = {json_array()};
	int major = ks_model_keras_major(m);

	if (!has_arch(m)) {
		json_decref(a.hits);
		return dr_skip(c, "the file has no architecture");
	}
	if (major >= 3) {
		json_decref(a.hits);
		return 0;  /* written with today's meanings */
	}
	each_layer(c, m, NULL, sem_one, &a);
	if (json_array_size(a.hits) > 0) {
		char *where = ks_xstrdup("");
		size_t i;
		json_t *h;
		json_array_foreach(a.hits, i, h) {
			char *t = ks_xasprintf("%s%s%s.%s = \"hard_sigmoid\"", where, i ? ", " : "",
			                       json_string_value(json_object_get(h, "layer")),
			                       json_string_value(json_object_get(h, "key")));
			free(where);
			where = t;
		}
		const char *first = json_string_value(json_object_get(json_array_get(a.hits, 0), "layer"));
		ks_finding *f = dr_add(c, "keras-version-semantics", KS_SEV_WARNING,
		                       json_array_size(a.hits) == 1 ? first : NULL, NULL);
		char why[256] = "";
		double delta = c->in->n_inputs ? semantics_delta(c, why, sizeof why) : -1;
		dr_set(&f->summary, "written by Keras %s, this model uses hard_sigmoid, which Keras 3 "
		       "computes differently%s", m->keras_version ? m->keras_version : "2 or older",
		       delta >= 0 ? "" : ": loaded in Keras 3 its outputs change");
		if (delta >= 0)
			dr_set(&f->evidence, "%s; on the given input the outputs under Keras 2 and Keras 3 "
			       "semantics differ by up to %.9g", where, delta);
		else
			dr_set(&f->evidence, "%s (give --input to measure the difference%s%s)", where,
			       why[0] ? "; " : "", why);
		dr_set(&f->fix, "to keep the Keras 2 results in Keras 3, rebuild those layers with "
		       "activation=lambda x: keras.ops.clip(0.2 * x + 0.5, 0, 1) as a registered function "
		       "(or keep predicting with tf.keras 2); `kerascope predict` computes what the "
		       "writing version computed");
		json_object_set_new(f->details, "settings", a.hits);
		a.hits = NULL;
		json_object_set_new(f->details, "layer", json_string(first));
		json_object_set(f->details, "key", json_object_get(json_array_get(json_object_get(f->details, "settings"), 0), "key"));
		json_object_set_new(f->details, "value", json_string("hard_sigmoid"));
		json_object_set_new(f->details, "keras_version",
		                    m->keras_version ? json_string(m->keras_version) : json_null());
		if (delta >= 0)
			json_object_set_new(f->details, "max_abs_keras2_vs_keras3", json_real(delta));
		free(where);
	}
	json_decref(a.hits);
	return 0;
}

/* ---- version-compat ---- */

typedef struct compat_acc {
	bool batch_input_shape, batch_shape, tf_ops, keras_src, dtype_policy, keras1_names;
	char tf_op_layer[128];
} compat_acc;

static void compat_one(dr_ctx *c, const ks_model *m, const ks_layer *L, const char *full, void *u)
{
	compat_acc *a = u;
	const json_t *cfg = L->config;
	(void)c;
	(void)m;
	if (json_object_get(cfg, "batch_input_shape"))
		a->batch_input_shape = true;
	if (json_object_get(cfg, "batch_shape"))
		a->batch_shape = true;
	if (json_is_object(json_object_get(cfg, "dtype")))
		a->dtype_policy = true;
	if (json_object_get(cfg, "output_dim") || json_object_get(cfg, "nb_filter") ||
	    json_object_get(cfg, "init") || json_object_get(cfg, "W_regularizer"))
		a->keras1_names = true;
	if (L->class_name && (!strcmp(L->class_name, "TFOpLambda") || !strcmp(L->class_name, "SlicingOpLambda") ||
	                      !strcmp(L->class_name, "TensorFlowOpLayer"))) {
		if (!a->tf_ops)
			snprintf(a->tf_op_layer, sizeof a->tf_op_layer, "%s (%s)", full, L->class_name);
		a->tf_ops = true;
	}
}

static bool mentions_keras_src(const json_t *v, int depth)
{
	const char *k;
	const json_t *x;
	size_t i;
	if (depth > 64)
		return false;
	if (json_is_object(v)) {
		const char *mod = jstr_or(v, "module", NULL);
		if (mod && ks_str_startswith(mod, "keras.src"))
			return true;
		json_object_foreach((json_t *)v, k, x)
			if (mentions_keras_src(x, depth + 1))
				return true;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			if (mentions_keras_src(x, depth + 1))
				return true;
	}
	return false;
}

int dr_check_version_compat(dr_ctx *c)
{
	const ks_model *m = c->in->a;
	compat_acc a = {0};
	char loads[512] = "", fails[768] = "";
	const char *kv = m->keras_version;
	int major = ks_model_keras_major(m);

	if (m->format == KS_FMT_PLAIN_H5)
		return dr_skip(c, "not a Keras file");
	each_layer(c, m, NULL, compat_one, &a);
	a.keras_src = mentions_keras_src(m->model_config, 0);
	switch (m->format) {
	case KS_FMT_KERAS3:
		snprintf(loads, sizeof loads, "Keras 3 (keras.saving.load_model)");
		snprintf(fails, sizeof fails, "tf.keras 2 and Keras 1/2, which cannot read the Keras 3 "
		         ".keras layout");
		if (a.keras_src)
			strncat(fails, "; Keras 3 versions older than the writer may not find its keras.src.* "
			        "module paths", sizeof fails - strlen(fails) - 1);
		break;
	case KS_FMT_KERAS2_ZIP:
		snprintf(loads, sizeof loads, "tf.keras 2.13-2.15, which wrote this .keras layout");
		snprintf(fails, sizeof fails, "Keras 3, which expects layers/<name>/vars instead of "
		         "_layer_checkpoint_dependencies");
		break;
	case KS_FMT_KERAS3_WEIGHTS:
		snprintf(loads, sizeof loads, "Keras 3 model.load_weights on the same architecture");
		snprintf(fails, sizeof fails, "keras.models.load_model: it holds no architecture");
		break;
	case KS_FMT_WEIGHTS_H5:
		snprintf(loads, sizeof loads, "model.load_weights in Keras %s and later, given the model "
		         "built in code", major <= 1 ? "1" : "2");
		snprintf(fails, sizeof fails, "keras.models.load_model: it holds no architecture");
		break;
	default:
		if (major <= 1 || a.keras1_names) {
			snprintf(loads, sizeof loads, "Keras 1 (and standalone Keras 2.0-2.2, which converts "
			         "Keras 1 configs)");
			snprintf(fails, sizeof fails, "tf.keras 2 and Keras 3: the config uses Keras 1 "
			         "argument names (output_dim, nb_filter, init, W_regularizer ...)");
		} else if (major >= 3) {
			snprintf(loads, sizeof loads, "Keras 3 (legacy .h5 loader)");
			if (a.batch_shape || a.dtype_policy)
				snprintf(fails, sizeof fails, "tf.keras 2: %s%s%s",
				         a.batch_shape ? "InputLayer has batch_shape (tf.keras 2 wants batch_input_shape)" : "",
				         a.batch_shape && a.dtype_policy ? "; " : "",
				         a.dtype_policy ? "dtype is a DTypePolicy object" : "");
		} else {
			snprintf(loads, sizeof loads, "tf.keras 2%s", a.tf_ops ? "" : " and Keras 3 (legacy .h5 loader)");
			if (a.tf_ops)
				snprintf(fails, sizeof fails, "Keras 3: layer %s wraps a TensorFlow operation, "
				         "which Keras 3 has no class for", a.tf_op_layer);
		}
	}
	ks_finding *f = dr_add(c, "version-compat", KS_SEV_INFO, NULL, NULL);
	dr_set(&f->summary, "written by Keras %s (%s): loads in %s%s%s", kv ? kv : "(version not recorded)",
	       ks_format_name(m->format), loads, fails[0] ? "; fails in " : "", fails);
	dr_set(&f->evidence, "keras_version %s, backend %s, format %s%s%s%s%s", kv ? kv : "absent",
	       m->backend ? m->backend : "absent", ks_format_name(m->format),
	       a.batch_input_shape ? ", batch_input_shape" : "", a.batch_shape ? ", batch_shape" : "",
	       a.tf_ops ? ", TensorFlow-op layers" : "", a.keras_src ? ", keras.src.* modules" : "");
	json_object_set_new(f->details, "keras_version", kv ? json_string(kv) : json_null());
	json_object_set_new(f->details, "format", json_string(ks_format_name(m->format)));
	json_object_set_new(f->details, "loads_in", json_string(loads));
	json_object_set_new(f->details, "fails_in", json_string(fails));
	return 0;
}

/* ---- no-class-names ---- */

static void lookup_one(dr_ctx *c, const ks_model *m, const ks_layer *L, const char *full, void *u)
{
	(void)c;
	(void)m;
	(void)full;
	if (L->class_name && (!strcmp(L->class_name, "StringLookup") || !strcmp(L->class_name, "IntegerLookup")) &&
	    json_is_true(json_object_get(L->config, "invert")))
		*(bool *)u = true;
}

int dr_check_class_names(dr_ctx *c)
{
	const ks_model *m = c->in->a;
	ks_shape *shapes;
	bool lookup = false;

	if (!has_arch(m) || m->n_outputs == 0)
		return dr_skip(c, "the file has no architecture");
	each_layer(c, m, NULL, lookup_one, &lookup);
	if (lookup)
		return 0;  /* an inverted lookup turns indices into names inside the model */
	shapes = ks_xcalloc((size_t)m->n_layers, sizeof *shapes);
	ks_infer_layer_shapes(m, shapes);
	for (int o = 0; o < m->n_outputs; o++) {
		int li = m->outputs[o].layer;
		if (li < 0 || li >= m->n_layers)
			continue;
		const ks_layer *L = &m->layers[li];
		const char *act = act_name(L);
		int64_t units = shapes[li].rank > 0 ? shapes[li].d[shapes[li].rank - 1] : -1;
		bool classifier = (!strcmp(act, "softmax") && units >= 2) || (!strcmp(act, "sigmoid") && units == 1);
		if (!classifier)
			continue;
		if (c->in->n_labels >= 0 && (units == 1 || c->in->n_labels == units))
			continue;
		ks_finding *f = dr_add(c, "no-class-names", KS_SEV_INFO, L->name, NULL);
		if (c->in->n_labels >= 0) {
			dr_set(&f->summary, "the output layer %s has %lld classes but --labels gives %d names", L->name,
			       (long long)units, c->in->n_labels);
		} else {
			dr_set(&f->summary, "the output layer %s is a %lld-class classifier (%s) and the file stores no "
			       "class names", L->name, (long long)(units == 1 ? 2 : units), act);
		}
		dr_set(&f->evidence, "output layer %s: %lld unit%s, activation %s; no StringLookup/IntegerLookup "
		       "(invert=True) layer in the model", L->name, (long long)units, units == 1 ? "" : "s", act);
		dr_set(&f->fix, "keep the label list next to the model (e.g. labels.txt written from the "
		       "sorted class names) and give it to kerascope with --labels FILE; build it with "
		       "sorted(set(labels)), never list(set(labels))");
		json_object_set_new(f->details, "output_units", json_integer(units));
	}
	free(shapes);
	return 0;
}

/* ---- layout-note ---- */

int dr_check_layout_notes(dr_ctx *c)
{
	const ks_model *m = c->in->a;
	for (int i = 0; i < m->n_warnings; i++) {
		const char *w = m->warnings[i];
		/* the layer-order and name-mismatch checks say these in full (the
		 * loader's wording: ks_legacy.c) */
		if (strstr(w, "load_weights") || strstr(w, "which the model config does not have") ||
		    strstr(w, "gets no weights from the file"))
			continue;
		ks_finding *f = dr_add(c, "layout-note", KS_SEV_INFO, NULL, NULL);
		dr_set(&f->summary, "%s", w);
	}
	return 0;
}
