/* h5_build: tiny writers used by the loader tests to build HDF5 files the
 * way h5py/Keras lay them out (string attributes in each encoding, empty
 * float64 name lists, float32 datasets). Test-only; aborts on HDF5 errors. */
#ifndef H5_BUILD_H
#define H5_BUILD_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>

#define HB_CHECK(x) do { if ((x) < 0) { fprintf(stderr, "%s:%d: HDF5 call failed: %s\n", \
	__FILE__, __LINE__, #x); abort(); } } while (0)

static inline hid_t hb_create(const char *path)
{
	hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	HB_CHECK(f);
	return f;
}

/* Scalar string attribute: vlen (fixed = 0) or fixed-length of `fixed` bytes. */
static inline void hb_attr_str(hid_t obj, const char *name, const char *val, bool utf8,
                               size_t fixed, H5T_str_t pad)
{
	hid_t t = H5Tcopy(H5T_C_S1), s = H5Screate(H5S_SCALAR), a;
	HB_CHECK(H5Tset_cset(t, utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII));
	if (fixed) {
		char *buf = calloc(1, fixed + 1);
		size_t n = strlen(val);
		memset(buf, pad == H5T_STR_SPACEPAD ? ' ' : 0, fixed);
		memcpy(buf, val, n < fixed ? n : fixed);
		HB_CHECK(H5Tset_size(t, fixed));
		HB_CHECK(H5Tset_strpad(t, pad));
		a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
		HB_CHECK(a);
		HB_CHECK(H5Awrite(a, t, buf));
		free(buf);
	} else {
		HB_CHECK(H5Tset_size(t, H5T_VARIABLE));
		a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
		HB_CHECK(a);
		HB_CHECK(H5Awrite(a, t, &val));
	}
	H5Aclose(a);
	H5Sclose(s);
	H5Tclose(t);
}

/* 1-D string array attribute: vlen, or fixed NULLPAD sized to the longest
 * (h5py 2 style). n = 0 writes h5py's empty list: float64 shape (0,). */
static inline void hb_attr_strv(hid_t obj, const char *name, const char *const *v, int n,
                                bool vlen)
{
	hsize_t dim = (hsize_t)n;
	hid_t s = H5Screate_simple(1, &dim, NULL), t, a;
	if (n == 0) {
		a = H5Acreate2(obj, name, H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT);
		HB_CHECK(a);
		H5Aclose(a);
		H5Sclose(s);
		return;
	}
	t = H5Tcopy(H5T_C_S1);
	if (vlen) {
		HB_CHECK(H5Tset_size(t, H5T_VARIABLE));
		a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
		HB_CHECK(a);
		HB_CHECK(H5Awrite(a, t, v));
	} else {
		size_t w = 1;
		char *buf;
		for (int i = 0; i < n; i++)
			if (strlen(v[i]) > w)
				w = strlen(v[i]);
		buf = calloc((size_t)n, w);
		for (int i = 0; i < n; i++)
			memcpy(buf + (size_t)i * w, v[i], strlen(v[i]));
		HB_CHECK(H5Tset_size(t, w));
		HB_CHECK(H5Tset_strpad(t, H5T_STR_NULLPAD));
		a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
		HB_CHECK(a);
		HB_CHECK(H5Awrite(a, t, buf));
		free(buf);
	}
	H5Aclose(a);
	H5Tclose(t);
	H5Sclose(s);
}

/* Creates intermediate groups as h5py does for names containing '/'. */
static inline hid_t hb_lcpl(void)
{
	hid_t l = H5Pcreate(H5P_LINK_CREATE);
	HB_CHECK(H5Pset_create_intermediate_group(l, 1));
	return l;
}

static inline hid_t hb_group(hid_t loc, const char *path)
{
	hid_t l = hb_lcpl(), g = H5Gcreate2(loc, path, l, H5P_DEFAULT, H5P_DEFAULT);
	HB_CHECK(g);
	H5Pclose(l);
	return g;
}

/* float32 dataset with the given shape; values = data or 0..n-1 when NULL. */
static inline void hb_dset_f32(hid_t loc, const char *path, int rank, const hsize_t *dims,
                               const float *data)
{
	hid_t l = hb_lcpl(), s = H5Screate_simple(rank, dims, NULL), d;
	hsize_t n = 1;
	float *tmp = NULL;
	for (int i = 0; i < rank; i++)
		n *= dims[i];
	if (!data) {
		tmp = malloc((size_t)(n ? n : 1) * sizeof *tmp);
		for (hsize_t i = 0; i < n; i++)
			tmp[i] = (float)i;
		data = tmp;
	}
	d = H5Dcreate2(loc, path, H5T_IEEE_F32LE, s, l, H5P_DEFAULT, H5P_DEFAULT);
	HB_CHECK(d);
	if (n)
		HB_CHECK(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data));
	free(tmp);
	H5Dclose(d);
	H5Sclose(s);
	H5Pclose(l);
}

/* A layer group with weight_names (vlen) and float32 datasets of the given
 * shapes (each dims list terminated by 0; rank from the count). */
static inline void hb_layer(hid_t wg, const char *layer, const char *const *names, int n,
                            const hsize_t (*shapes)[4])
{
	hid_t g = hb_group(wg, layer);
	hb_attr_strv(g, "weight_names", names, n, true);
	for (int i = 0; i < n; i++) {
		int r = 0;
		while (r < 4 && shapes[i][r])
			r++;
		hb_dset_f32(g, names[i], r, shapes[i], NULL);
	}
	H5Gclose(g);
}

/* A legacy tf.keras .h5 whose functional graph is one long chain: an
 * InputLayer "in" (None, 4) then n Activation('relu') layers a0..a(n-1),
 * each fed by the previous. No layer has weights, so /model_weights lists
 * only the input (as a model saved with its Activations folded would). The
 * big model_config is written the way h5py does (a scalar vlen string). */
static inline void hb_chain_model(const char *path, int n)
{
	size_t cap = 256 + (size_t)n * 200, len = 0;
	char *js = malloc(cap);
	const char *in_names[] = {"in"};
	hid_t f, wg;

	len += (size_t)sprintf(js + len, "{\"class_name\": \"Functional\", \"config\": {\"name\": "
	                       "\"chain\", \"layers\": [{\"class_name\": \"InputLayer\", \"name\": "
	                       "\"in\", \"config\": {\"batch_input_shape\": [null, 4], \"dtype\": "
	                       "\"float32\", \"name\": \"in\"}, \"inbound_nodes\": []}");
	for (int i = 0; i < n; i++) {
		char prev[32];
		if (i)
			snprintf(prev, sizeof prev, "a%d", i - 1);
		else
			snprintf(prev, sizeof prev, "in");
		len += (size_t)sprintf(js + len, ", {\"class_name\": \"Activation\", \"name\": \"a%d\", "
		                       "\"config\": {\"name\": \"a%d\", \"activation\": \"relu\", "
		                       "\"dtype\": \"float32\"}, \"inbound_nodes\": [[[\"%s\", 0, 0, {}]]]}",
		                       i, i, prev);
	}
	sprintf(js + len, "], \"input_layers\": [[\"in\", 0, 0]], \"output_layers\": [[\"a%d\", 0, 0]]}}",
	        n - 1);
	f = hb_create(path);
	hb_attr_str(f, "keras_version", "2.15.0", false, 0, H5T_STR_NULLTERM);
	hb_attr_str(f, "backend", "tensorflow", false, 0, H5T_STR_NULLTERM);
	hb_attr_str(f, "model_config", js, false, 0, H5T_STR_NULLTERM);
	wg = hb_group(f, "model_weights");
	hb_attr_strv(wg, "layer_names", in_names, 1, true);
	hb_layer(wg, "in", NULL, 0, NULL);
	H5Gclose(wg);
	H5Fclose(f);
	free(js);
}

#endif
