#include "config.h"

#include <string.h>

#include "ks_file.h"

static hid_t file_of(const ks_model *m)
{
	for (; m; m = m->parent)
		if (m->file >= 0)
			return m->file;
	return H5I_INVALID_HID;
}

bool ks_file_has_h5(const ks_model *m)
{
	return file_of(m) >= 0;
}

static hid_t need_file(const ks_model *m, ks_err *err)
{
	hid_t f = file_of(m);
	if (f < 0)
		ks_fail(err, "no HDF5 file behind this model");
	return f;
}

const char *ks_layout_name(ks_layout l)
{
	switch (l) {
	case KS_LAYOUT_MEMORY: return "in memory";
	case KS_LAYOUT_CONTIGUOUS: return "contiguous";
	case KS_LAYOUT_CHUNKED: return "chunked";
	case KS_LAYOUT_COMPACT: return "compact";
	case KS_LAYOUT_VIRTUAL: return "virtual";
	}
	return "?";
}

static void read_pipeline(hid_t dcpl, ks_storage *out)
{
	H5D_layout_t lay = H5Pget_layout(dcpl);

	out->layout = lay == H5D_CHUNKED ? KS_LAYOUT_CHUNKED
	              : lay == H5D_COMPACT ? KS_LAYOUT_COMPACT
	              : lay == H5D_VIRTUAL ? KS_LAYOUT_VIRTUAL
	                                   : KS_LAYOUT_CONTIGUOUS;
	if (lay == H5D_CHUNKED) {
		hsize_t cd[32];
		int nd = H5Pget_chunk(dcpl, 32, cd);
		if (nd > KS_MAX_RANK)
			nd = KS_MAX_RANK;
		for (int i = 0; i < nd; i++)
			out->chunk[i] = (int64_t)cd[i];
		out->chunk_rank = nd > 0 ? nd : 0;
	}
	int nf = H5Pget_nfilters(dcpl);
	for (int i = 0; i < nf && out->n_filters < KS_FILE_MAX_FILTERS; i++) {
		char name[64] = "";
		unsigned flags;
		size_t nel = 0;
		H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &nel, NULL, sizeof name,
		                                 name, NULL);
		const char *s = id == H5Z_FILTER_DEFLATE   ? "gzip"
		                : id == H5Z_FILTER_SHUFFLE ? "shuffle"
		                : name[0]                  ? name
		                                           : "filter";
		snprintf(out->filters[out->n_filters++], sizeof out->filters[0], "%s", s);
	}
}

int ks_file_storage(const ks_model *m, const ks_weight *w, ks_storage *out, ks_err *err)
{
	memset(out, 0, sizeof *out);
	if (w->mem)
		return 0;
	hid_t f = need_file(m, err);
	if (f < 0)
		return -1;
	if (!w->h5_path)
		return ks_fail(err, "the weight has no place in the file");
	hid_t d = H5Dopen2(f, w->h5_path, H5P_DEFAULT);
	if (d < 0)
		return ks_fail(err, "cannot open the dataset %s", w->h5_path);
	hid_t dcpl = H5Dget_create_plist(d);
	if (dcpl >= 0) {
		read_pipeline(dcpl, out);
		H5Pclose(dcpl);
	} else {
		out->layout = KS_LAYOUT_CONTIGUOUS;
	}
	out->stored_bytes = (int64_t)H5Dget_storage_size(d);
	H5Dclose(d);
	return 0;
}

int ks_file_visit(const ks_model *m, const char *start, ks_h5_visit_cb cb, void *ud, ks_err *err)
{
	hid_t f = need_file(m, err);
	return f < 0 ? -1 : ks_h5_visit(f, start, cb, ud, err);
}

int ks_file_attr_names(const ks_model *m, const char *obj_path, char ***out, int *n, ks_err *err)
{
	hid_t f = need_file(m, err);
	return f < 0 ? -1 : ks_h5_attr_names(f, obj_path, out, n, err);
}

int ks_file_attr_text(const ks_model *m, const char *obj_path, const char *attr, size_t max_chars,
                      char **out, ks_err *err)
{
	hid_t f = need_file(m, err);
	return f < 0 ? -1 : ks_h5_attr_text(f, obj_path, attr, max_chars, out, err);
}
