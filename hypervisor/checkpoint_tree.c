/* The checkpoint tree file (checkpoints.json): read with every field checked, written
 * crash-safely, and the small edits the operations make on it. */
#include "hypervisor/checkpoint.h"

#include "hypervisor/store.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TREE_VERSION  1
#define TREE_MAX_SIZE (4u << 20)

static void free_images(struct ckpt_image *im, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		free(im[i].disk);
		free(im[i].file);
	}
	free(im);
}

static void free_ckpt(struct ckpt *c)
{
	free(c->label);
	free_images(c->images, c->nimages);
	c->label = NULL;
	c->images = NULL;
	c->nimages = 0;
}

void ckpt_tree_free(struct ckpt_tree *t)
{
	for (unsigned i = 0; i < t->n; i++)
		free_ckpt(&t->c[i]);
	free(t->c);
	free_images(t->current, t->ncurrent);
	memset(t, 0, sizeof(*t));
}

static bool is_id(const char *s)
{
	if (strlen(s) != CKPT_ID_LEN)
		return false;
	for (unsigned i = 0; i < CKPT_ID_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

int ckpt_check_label(const char *label, char *err, size_t errlen)
{
	size_t len = strlen(label);
	bool blank = true;

	if (len == 0 || len > CKPT_LABEL_MAX) {
		snprintf(err, errlen,
			 "a checkpoint's label has 1 to %d characters; '%.40s%s' has %zu",
			 CKPT_LABEL_MAX, label, len > 40 ? "..." : "", len);
		return -EINVAL;
	}
	for (const unsigned char *p = (const unsigned char *)label; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			snprintf(err, errlen,
				 "a checkpoint's label cannot hold control characters (tabs, "
				 "newlines); write it on one line");
			return -EINVAL;
		}
		if (*p != ' ')
			blank = false;
	}
	if (blank) {
		snprintf(err, errlen, "a checkpoint's label cannot be blank");
		return -EINVAL;
	}
	if (is_id(label)) {
		snprintf(err, errlen,
			 "'%s' looks like a checkpoint id; give the label a word that is not "
			 "8 hex digits",
			 label);
		return -EINVAL;
	}
	return 0;
}

struct ckpt *ckpt_tree_get(const struct ckpt_tree *t, const char *id)
{
	if (!id || !id[0])
		return NULL;
	for (unsigned i = 0; i < t->n; i++)
		if (strcmp(t->c[i].id, id) == 0)
			return &t->c[i];
	return NULL;
}

int ckpt_tree_find(const struct ckpt_tree *t, const char *ref, struct ckpt **out, char *err,
		   size_t errlen)
{
	struct ckpt *c = ckpt_tree_get(t, ref), *found = NULL;
	unsigned hits = 0;

	if (c && !c->deleted) {
		*out = c;
		return 0;
	}
	for (unsigned i = 0; i < t->n; i++)
		if (!t->c[i].deleted && strcmp(t->c[i].label, ref) == 0) {
			found = &t->c[i];
			hits++;
		}
	if (hits == 1) {
		*out = found;
		return 0;
	}
	if (hits > 1) {
		snprintf(err, errlen,
			 "%u checkpoints are labelled '%s'; name the one you mean by its id "
			 "(osio checkpoint VM list)",
			 hits, ref);
		return -EINVAL;
	}
	snprintf(err, errlen, "no checkpoint '%s' (osio checkpoint VM list shows them)", ref);
	return -ENOENT;
}

struct ckpt *ckpt_tree_shown_parent(const struct ckpt_tree *t, const char *id)
{
	struct ckpt *c = ckpt_tree_get(t, id);

	for (unsigned steps = 0; c && c->deleted && steps <= t->n; steps++)
		c = ckpt_tree_get(t, c->parent);
	return c && !c->deleted ? c : NULL;
}

static int copy_images(struct ckpt_image **out, const struct ckpt_image *in, unsigned n)
{
	struct ckpt_image *im = calloc(n ? n : 1, sizeof(*im));

	if (!im)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		im[i].disk = strdup(in[i].disk);
		im[i].file = strdup(in[i].file);
		im[i].owned = in[i].owned;
		if (!im[i].disk || !im[i].file) {
			free_images(im, n);
			return -ENOMEM;
		}
	}
	*out = im;
	return 0;
}

int ckpt_tree_add(struct ckpt_tree *t, const struct ckpt *c)
{
	if (t->n >= CKPT_MAX)
		return -ENOSPC;
	struct ckpt *a = realloc(t->c, (t->n + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	t->c = a;
	struct ckpt *n = &a[t->n];
	*n = *c;
	n->label = strdup(c->label);
	if (!n->label || copy_images(&n->images, c->images, c->nimages) < 0) {
		free(n->label);
		return -ENOMEM;
	}
	t->n++;
	return 0;
}

void ckpt_tree_remove(struct ckpt_tree *t, unsigned i)
{
	free_ckpt(&t->c[i]);
	memmove(&t->c[i], &t->c[i + 1], (t->n - i - 1) * sizeof(t->c[0]));
	t->n--;
}

int ckpt_tree_set_current(struct ckpt_tree *t, const struct ckpt_image *images, unsigned n)
{
	struct ckpt_image *im;
	int r = copy_images(&im, images, n);

	if (r < 0)
		return r;
	free_images(t->current, t->ncurrent);
	t->current = im;
	t->ncurrent = n;
	return 0;
}

/* --- reading ---------------------------------------------------------------------- */

struct reader {
	const char *path;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int damaged(struct reader *rd, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(rd->err, rd->errlen,
		 "%s: damaged checkpoint list: %s; restore the file from a backup (removing it "
		 "forgets every checkpoint, the disks stay as they are)",
		 rd->path, what);
	return -EINVAL;
}

/* A string field of at most max bytes without NUL; *out NULL when absent and optional. */
static int get_string(struct reader *rd, json_t *obj, const char *where, const char *key,
		      size_t max, bool optional, const char **out)
{
	json_t *v = json_object_get(obj, key);

	*out = NULL;
	if (!v && optional)
		return 0;
	if (!json_is_string(v))
		return damaged(rd, "%s has no text \"%s\"", where, key);
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (len != strlen(s) || len > max)
		return damaged(rd, "%s: \"%s\" is too long or holds a NUL", where, key);
	*out = s;
	return 0;
}

static int get_bool(struct reader *rd, json_t *obj, const char *where, const char *key, bool *out)
{
	json_t *v = json_object_get(obj, key);

	*out = false;
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return damaged(rd, "%s: \"%s\" is not true or false", where, key);
	*out = json_is_true(v);
	return 0;
}

static int read_images(struct reader *rd, json_t *arr, const char *where, struct ckpt_image **out,
		       unsigned *nout)
{
	size_t n = json_array_size(arr);
	int r;

	if (!json_is_array(arr))
		return damaged(rd, "%s has no list of disks", where);
	if (n > 64)
		return damaged(rd, "%s has more than 64 disks", where);
	struct ckpt_image *im = calloc(n ? n : 1, sizeof(*im));
	if (!im)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		json_t *o = json_array_get(arr, i);
		const char *disk, *file;
		if (!json_is_object(o)) {
			r = damaged(rd, "%s: disk %zu is not an object", where, i + 1);
			goto fail;
		}
		if ((r = get_string(rd, o, where, "disk", 63, false, &disk)) < 0 ||
		    (r = get_string(rd, o, where, "file", PATH_MAX - 1, false, &file)) < 0 ||
		    (r = get_bool(rd, o, where, "owned", &im[i].owned)) < 0)
			goto fail;
		if (!file[0]) {
			r = damaged(rd, "%s: disk %zu has an empty file name", where, i + 1);
			goto fail;
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(im[j].disk, disk) == 0) {
				r = damaged(rd, "%s lists disk '%s' twice", where, disk);
				goto fail;
			}
		im[i].disk = strdup(disk);
		im[i].file = strdup(file);
		if (!im[i].disk || !im[i].file) {
			r = -ENOMEM;
			goto fail;
		}
	}
	*out = im;
	*nout = (unsigned)n;
	return 0;
fail:
	free_images(im, (unsigned)n);
	return r;
}

static int read_ckpt(struct reader *rd, json_t *o, size_t index, struct ckpt *c)
{
	char where[48];
	const char *id, *parent, *label;
	json_t *created = json_object_get(o, "created");
	int r;

	snprintf(where, sizeof(where), "checkpoint %zu", index + 1);
	if (!json_is_object(o))
		return damaged(rd, "%s is not an object", where);
	if ((r = get_string(rd, o, where, "id", CKPT_ID_LEN, false, &id)) < 0)
		return r;
	if (!is_id(id))
		return damaged(rd, "%s: id '%s' is not %d hex digits", where, id, CKPT_ID_LEN);
	snprintf(where, sizeof(where), "checkpoint %s", id);
	if ((r = get_string(rd, o, where, "parent", CKPT_ID_LEN, true, &parent)) < 0 ||
	    (r = get_string(rd, o, where, "label", CKPT_LABEL_MAX, false, &label)) < 0 ||
	    (r = get_bool(rd, o, where, "deleted", &c->deleted)) < 0 ||
	    (r = get_bool(rd, o, where, "state", &c->has_state)) < 0)
		return r;
	if (parent && parent[0] && !is_id(parent))
		return damaged(rd, "%s: parent '%s' is not an id", where, parent);
	if (!label[0])
		return damaged(rd, "%s has an empty label", where);
	if (!json_is_integer(created) || json_integer_value(created) < 0)
		return damaged(rd, "%s: \"created\" is not a time (seconds since 1970)", where);
	snprintf(c->id, sizeof(c->id), "%s", id);
	snprintf(c->parent, sizeof(c->parent), "%s", parent ? parent : "");
	c->created = json_integer_value(created);
	c->label = strdup(label);
	if (!c->label)
		return -ENOMEM;
	r = read_images(rd, json_object_get(o, "disks"), where, &c->images, &c->nimages);
	if (r < 0) {
		free(c->label);
		c->label = NULL;
	}
	return r;
}

/* Ids unique, parents present, no loops, "now" present. */
static int check_links(struct reader *rd, const struct ckpt_tree *t)
{
	for (unsigned i = 0; i < t->n; i++) {
		const struct ckpt *c = &t->c[i];
		for (unsigned j = 0; j < i; j++)
			if (strcmp(t->c[j].id, c->id) == 0)
				return damaged(rd, "id %s appears twice", c->id);
		if (c->parent[0] && !ckpt_tree_get(t, c->parent))
			return damaged(rd, "checkpoint %s has parent %s, which is not in the list",
				       c->id, c->parent);
		const struct ckpt *p = c;
		for (unsigned steps = 0; p && p->parent[0]; steps++) {
			if (steps >= t->n)
				return damaged(rd, "checkpoint %s is its own ancestor", c->id);
			p = ckpt_tree_get(t, p->parent);
		}
	}
	if (t->now[0] && !ckpt_tree_get(t, t->now))
		return damaged(rd, "\"now\" names checkpoint %s, which is not in the list", t->now);
	return 0;
}

int ckpt_tree_load(const char *path, struct ckpt_tree *t, char *err, size_t errlen)
{
	struct reader rd = {.path = path, .err = err, .errlen = errlen};
	json_error_t je;
	const char *now;
	json_t *root;
	int r;

	memset(t, 0, sizeof(*t));
	FILE *f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT)
			return 0;
		r = -errno;
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(errno));
		return r;
	}
	root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	fclose(f);
	if (!root)
		return damaged(&rd, "line %d: %s", je.line, je.text);
	json_t *ver = json_object_get(root, "version"),
	       *list = json_object_get(root, "checkpoints");
	if (!json_is_object(root)) {
		r = damaged(&rd, "not a JSON object");
		goto out;
	}
	if (!json_is_integer(ver) || json_integer_value(ver) != TREE_VERSION) {
		r = damaged(&rd, "\"version\" is not %d (a newer osio wrote it?)", TREE_VERSION);
		goto out;
	}
	if ((r = get_string(&rd, root, "the file", "now", CKPT_ID_LEN, true, &now)) < 0)
		goto out;
	if (now && now[0] && !is_id(now)) {
		r = damaged(&rd, "\"now\" is not an id");
		goto out;
	}
	snprintf(t->now, sizeof(t->now), "%s", now ? now : "");
	if (!json_is_array(list) || json_array_size(list) > CKPT_MAX) {
		r = damaged(&rd, "\"checkpoints\" is not a list of at most %d", CKPT_MAX);
		goto out;
	}
	t->c = calloc(json_array_size(list) + 1, sizeof(*t->c));
	if (!t->c) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < json_array_size(list); i++) {
		if ((r = read_ckpt(&rd, json_array_get(list, i), i, &t->c[i])) < 0)
			goto out;
		t->n++;
	}
	json_t *cur = json_object_get(root, "current");
	if (cur && (r = read_images(&rd, cur, "\"current\"", &t->current, &t->ncurrent)) < 0)
		goto out;
	r = check_links(&rd, t);
out:
	json_decref(root);
	if (r < 0)
		ckpt_tree_free(t);
	return r;
}

/* --- writing ---------------------------------------------------------------------- */

static json_t *images_json(const struct ckpt_image *im, unsigned n)
{
	json_t *a = json_array();

	for (unsigned i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_pack("{s:s, s:s, s:b}", "disk", im[i].disk,
						       "file", im[i].file, "owned", im[i].owned)) <
		    0) {
			json_decref(a);
			return NULL;
		}
	return a;
}

int ckpt_tree_save(const struct ckpt_tree *t, const char *path, char *err, size_t errlen)
{
	json_t *list = json_array(), *root = NULL;
	char *text = NULL;
	int r = -ENOMEM;

	for (unsigned i = 0; list && i < t->n; i++) {
		const struct ckpt *c = &t->c[i];
		json_t *o = json_pack("{s:s, s:s, s:s, s:I, s:b, s:b, s:o}", "id", c->id, "parent",
				      c->parent, "label", c->label, "created",
				      (json_int_t)c->created, "deleted", c->deleted, "state",
				      c->has_state, "disks", images_json(c->images, c->nimages));
		if (json_array_append_new(list, o) < 0)
			goto out;
	}
	root = json_pack("{s:i, s:s, s:o, s:o}", "version", TREE_VERSION, "now", t->now, "current",
			 images_json(t->current, t->ncurrent), "checkpoints", list);
	list = NULL;
	if (!root)
		goto out;
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text)
		goto out;
	size_t len = strlen(text);
	if (len + 1 > TREE_MAX_SIZE)
		goto out;
	text[len] = '\n';
	r = store_write_atomic(path, text, len + 1, 0600, true, err, errlen);
	free(text);
	json_decref(root);
	return r;
out:
	snprintf(err, errlen, "%s: cannot write the checkpoint list: out of memory", path);
	free(text);
	json_decref(list);
	json_decref(root);
	return r;
}
