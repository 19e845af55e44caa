/* Copying a VM into a new folder, for osio export and osio import (vmcopy.h): which images its
 * vmconfig, its checkpoint tree and its checkpoints' vmconfigs name, with their parent chains;
 * names for them in the new folder; sparse copies; the tree and the configurations re-pointed. */
#include "cli/vmcopy.h"

#include "cli/store_common.h"
#include "devices/block/block.h"
#include "hypervisor/checkpoint.h"
#include "hypervisor/fileio.h"
#include "hypervisor/log.h"
#include "hypervisor/store.h"
#include "vmconfig/vmconfig.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_CHUNK (1024 * 1024)
#define CHAIN_MAX  64

int made_add(struct made *m, const char *path)
{
	if (m->n == m->cap) {
		unsigned cap = m->cap ? m->cap * 2 : 32;
		char **f = realloc(m->files, cap * sizeof(*f));
		if (!f)
			goto nomem;
		m->files = f;
		m->cap = cap;
	}
	if (!(m->files[m->n] = strdup(path)))
		goto nomem;
	m->n++;
	return 0;
nomem:
	log_error("%s: out of memory", path);
	return -ENOMEM;
}

void made_undo(struct made *m, bool remove)
{
	while (m->n) {
		char *f = m->files[--m->n];
		if (remove && unlink(f) < 0 && (errno == EISDIR || errno == EPERM))
			rmdir(f);
		free(f);
	}
	free(m->files);
	m->files = NULL;
	m->cap = 0;
	if (remove && m->dir[0] && rmdir(m->dir) < 0)
		log_warn("%s: could not remove the half-made folder: %s", m->dir, strerror(errno));
}

/* Paths in a vmconfig besides the disks': made absolute when the vmconfig
 * moves (they are relative to its folder). */
static const struct {
	const char *section, *key;
} path_keys[] = {
    {"boot", "bios"},	{"boot", "vgabios"}, {"boot", "kernel"},
    {"boot", "initrd"}, {"dvd", "file"},     {"nic", "tftp"},
    {"serial", "path"}, {"console", "path"}, {"display", "vnc_password_file"},
};

static void resolve(const char *dir, const char *file, char *out, size_t size)
{
	if (file[0] == '/')
		snprintf(out, size, "%s", file);
	else
		snprintf(out, size, "%s/%s", dir, file);
}

int vmcopy_absolute_paths(struct vmconfig *cfg, const char *dir)
{
	char path[VMCOPY_PATH * 2];

	for (size_t k = 0; k < sizeof(path_keys) / sizeof(path_keys[0]); k++) {
		const char *sec = path_keys[k].section;
		unsigned n = vmconfig_count(cfg, sec);
		for (unsigned i = 0; i < n; i++) {
			const char *name = vmconfig_section_name(cfg, sec, i);
			const char *v = vmconfig_get(cfg, sec, name, path_keys[k].key);
			if (!v || !v[0] || v[0] == '/')
				continue;
			resolve(dir, v, path, sizeof(path));
			if (store_config_set(cfg, sec, name[0] ? name : NULL, path_keys[k].key,
					     path) < 0)
				return -EINVAL;
		}
	}
	return 0;
}

static bool all_zero(const char *p, size_t len)
{
	return len == 0 || (p[0] == 0 && memcmp(p, p + 1, len - 1) == 0);
}

/* A copy of src at dst (a new file) that leaves holes where src has holes
 * or zeroes. */
static int copy_sparse(const char *src, const char *dst)
{
	struct stat st;
	char *buf = malloc(COPY_CHUNK);
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, r = 0;

	if (!buf || in < 0 || fstat(in, &st) < 0) {
		r = buf ? -errno : -ENOMEM;
		log_error("%s: cannot read it: %s", src, strerror(-r));
		goto out;
	}
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, store_file_mode(0600));
	if (out < 0) {
		r = -errno;
		log_error("%s: cannot create it: %s", dst, strerror(errno));
		goto out;
	}
	if (ftruncate(out, st.st_size) < 0)
		goto write_fail;
	for (off_t pos = 0; pos < st.st_size;) {
		off_t data = lseek(in, pos, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break; /* a hole up to the end */
		if (data < 0)
			data = pos; /* no SEEK_DATA: read everything */
		off_t hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0)
			hole = st.st_size;
		for (pos = data; pos < hole;) {
			size_t len = hole - pos > COPY_CHUNK ? COPY_CHUNK : (size_t)(hole - pos);
			r = file_pread_all(in, buf, len, (uint64_t)pos);
			if (r < 0) {
				r = r == -ENODATA ? -EIO : r; /* it shrank */
				log_error("%s: cannot read it: %s", src, strerror(-r));
				goto out;
			}
			if (!all_zero(buf, len) &&
			    (r = file_pwrite_all(out, buf, len, (uint64_t)pos)) < 0)
				goto write_fail;
			pos += (off_t)len;
		}
	}
	if (fsync(out) < 0)
		goto write_fail;
	goto out;
write_fail:
	if (r == 0)
		r = errno ? -errno : -EIO;
	log_error("%s: cannot write it: %s%s", dst, strerror(-r),
		  r == -ENOSPC ? "; free some space there (nothing of the copy is kept)" : "");
out:
	if (out >= 0 && close(out) < 0 && r == 0) {
		r = -errno;
		log_error("%s: cannot write it: %s", dst, strerror(errno));
	}
	if (in >= 0)
		close(in);
	if (r < 0 && out >= 0)
		unlink(dst);
	free(buf);
	return r;
}

/* copy_sparse, recorded in m (or removed again). */
static int copy_made(const char *src, const char *dst, struct made *m)
{
	int r = copy_sparse(src, dst);

	if (r == 0 && (r = made_add(m, dst)) < 0)
		unlink(dst);
	return r;
}

/* --- the images to copy ------------------------------------------------------------ */

struct vfile {
	char *src; /* the path it was found by */
	dev_t dev;
	ino_t ino;
	char *dst;   /* its name in the new folder */
	bool parent; /* some image names it as its parent (by its own name) */
	/* Its parent in the set (-1: none), and whether it names that by a path
	 * that the copy cannot follow: the copy is reconnected to the parent's
	 * copy then (block_set_parent). */
	int up;
	bool reconnect;
};

struct vset {
	struct vfile *f;
	unsigned n;
};

static void vset_free(struct vset *s)
{
	for (unsigned i = 0; i < s->n; i++) {
		free(s->f[i].src);
		free(s->f[i].dst);
	}
	free(s->f);
	memset(s, 0, sizeof(*s));
}

static struct vfile *vset_find(const struct vset *s, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return NULL;
	for (unsigned i = 0; i < s->n; i++)
		if (s->f[i].dev == st.st_dev && s->f[i].ino == st.st_ino)
			return &s->f[i];
	return NULL;
}

/* One image (not its parents) into the set; parent: another image names it as its parent by
 * its file name. Its index in the set, or -errno. */
static int vset_add_one(struct vset *s, const char *path, bool parent)
{
	struct vfile *f = vset_find(s, path);
	struct stat st;

	if (f) {
		f->parent = f->parent || parent;
		return (int)(f - s->f);
	}
	if (stat(path, &st) < 0) {
		log_error("%s: %s", path, strerror(errno));
		return -errno;
	}
	struct vfile *a = realloc(s->f, (s->n + 1) * sizeof(*a));
	if (!a)
		goto nomem;
	s->f = a;
	f = &a[s->n];
	memset(f, 0, sizeof(*f));
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->parent = parent;
	f->up = -1;
	if (!(f->src = strdup(path)))
		goto nomem;
	return (int)s->n++;
nomem:
	log_error("out of memory");
	return -ENOMEM;
}

/* The image at path and its parent chain into the set. what: who names it, for messages. */
static int vset_add_chain(struct vset *s, const char *path, const char *what)
{
	char err[VMCOPY_PATH + 256];
	struct block_dev *bd;
	struct block_info bi;
	unsigned depth = 0;
	int r;

	if ((r = block_open(path, NULL, BLOCK_RDONLY | BLOCK_SHARE, &bd, err, sizeof(err))) < 0) {
		log_error("%s: %s", what, err[0] ? err : strerror(-r));
		return r;
	}
	int below = -1; /* the child of b in the set */
	bool by_name = false;
	for (struct block_dev *b = bd; b && depth < CHAIN_MAX; b = block_backing(b), depth++) {
		/* A parent named by a path (another folder) goes into the copy's folder,
		 * and the copy of its child is reconnected to it. */
		bool path_named =
		    block_backing(b) && block_get_info(b, &bi) == 0 && strchr(bi.parent, '/');
		if ((r = vset_add_one(s, block_path(b), depth > 0 && by_name)) < 0)
			break;
		if (below >= 0)
			s->f[below].up = r;
		below = r;
		s->f[r].reconnect = s->f[r].reconnect || path_named;
		by_name = !path_named;
	}
	block_close(bd);
	return r < 0 ? r : 0;
}

static bool name_taken(const struct vset *s, const char *name)
{
	for (unsigned i = 0; i < s->n; i++)
		if (s->f[i].dst && strcmp(s->f[i].dst, name) == 0)
			return true;
	return false;
}

/* Names in the new folder: parents keep theirs (their children name them so); the others get
 * theirs, or "-2", "-3"... when taken. */
static int vset_name(struct vset *s)
{
	char name[NAME_MAX + 1];

	for (int pass = 0; pass < 2; pass++) {
		for (unsigned i = 0; i < s->n; i++) {
			struct vfile *f = &s->f[i];
			const char *base = strrchr(f->src, '/') ? strrchr(f->src, '/') + 1 : f->src;
			if (f->parent != (pass == 0))
				continue;
			snprintf(name, sizeof(name), "%s", base);
			if (pass == 0 && name_taken(s, name)) {
				log_error("%s and another parent image are both called %s; the "
					  "copy keeps parents' names, so one of them must be "
					  "renamed first",
					  f->src, name);
				return -EEXIST;
			}
			const char *dot = strrchr(base, '.');
			int stem = dot && dot != base ? (int)(dot - base) : (int)strlen(base);
			for (int k = 2; name_taken(s, name) && k < 10000; k++)
				snprintf(name, sizeof(name), "%.*s-%d%s", stem, base, k,
					 dot && dot != base ? dot : "");
			if (!(f->dst = strdup(name))) {
				log_error("out of memory");
				return -ENOMEM;
			}
		}
	}
	return 0;
}

/* The set's name for the file recorded as file (relative to from), or NULL. */
static const char *vset_dst(const struct vset *s, const char *from, const char *file)
{
	char path[VMCOPY_PATH * 2];
	const struct vfile *f;

	resolve(from, file, path, sizeof(path));
	f = vset_find(s, path);
	return f ? f->dst : NULL;
}

/* --- what the VM names ------------------------------------------------------------- */

/* A configuration in checkpoints/ (ID.vmconfig): loaded, or NULL (copied as it is then). */
struct ckcfg {
	char *file; /* its name in checkpoints/ */
	struct vmconfig *cfg;
};

struct vmsrc {
	const char *from;
	char ckdir[VMCOPY_PATH + 16];
	bool has_tree;
	struct ckpt_tree tree;
	struct ckcfg *cc;
	unsigned ncc;
	char **others; /* other files in checkpoints/, copied as they are */
	unsigned nothers;
};

static void vmsrc_free(struct vmsrc *v)
{
	ckpt_tree_free(&v->tree);
	for (unsigned i = 0; i < v->ncc; i++) {
		free(v->cc[i].file);
		vmconfig_free(v->cc[i].cfg);
	}
	free(v->cc);
	for (unsigned i = 0; i < v->nothers; i++)
		free(v->others[i]);
	free(v->others);
}

static bool ends_with(const char *s, const char *tail)
{
	size_t a = strlen(s), b = strlen(tail);
	return a >= b && strcmp(s + a - b, tail) == 0;
}

/* Reads from/checkpoints: the tree, the configurations, the list of other files. */
static int vmsrc_load(struct vmsrc *v, const char *from)
{
	char path[VMCOPY_PATH * 2], err[VMCOPY_PATH + 256];
	struct dirent *de;
	int r = 0;

	memset(v, 0, sizeof(*v));
	v->from = from;
	snprintf(v->ckdir, sizeof(v->ckdir), "%s/checkpoints", from);
	snprintf(path, sizeof(path), "%s/checkpoints.json", v->ckdir);
	if (access(path, F_OK) < 0)
		return 0;
	v->has_tree = true;
	if ((r = ckpt_tree_load(path, &v->tree, err, sizeof(err))) < 0) {
		log_error("%s", err);
		return r;
	}
	DIR *d = opendir(v->ckdir);
	if (!d) {
		log_error("%s: cannot read it: %s", v->ckdir, strerror(errno));
		return -errno;
	}
	while ((de = readdir(d))) {
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", v->ckdir, de->d_name);
		if (de->d_name[0] == '.' || strcmp(de->d_name, "checkpoints.json") == 0 ||
		    ends_with(de->d_name, ".tmp"))
			continue; /* leftovers of crash-safe writes are not copied */
		if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
			log_warn("%s: not a plain file; left out of the copy", path);
			continue;
		}
		if (ends_with(de->d_name, ".vmconfig")) {
			struct vmconfig_error e;
			struct ckcfg *a = realloc(v->cc, (v->ncc + 1) * sizeof(*a));
			if (!a)
				goto nomem;
			v->cc = a;
			a[v->ncc].cfg = vmconfig_load(path, &e);
			if (!(a[v->ncc].file = strdup(de->d_name))) {
				vmconfig_free(a[v->ncc].cfg);
				goto nomem;
			}
			if (!a[v->ncc].cfg)
				log_warn("%s: cannot read it as a vmconfig; copied as it is", path);
			v->ncc++;
			continue;
		}
		char **o = realloc(v->others, (v->nothers + 1) * sizeof(*o));
		if (!o)
			goto nomem;
		v->others = o;
		if (!(o[v->nothers] = strdup(de->d_name)))
			goto nomem;
		v->nothers++;
	}
	closedir(d);
	return 0;
nomem:
	closedir(d);
	log_error("out of memory");
	return -ENOMEM;
}

/* The image of disk name (its file relative to from) into path, which
 * must exist: -ENOENT after a line naming the vmconfig's line. */
static int disk_image(struct vmconfig *cfg, const char *from, const char *name, const char *file,
		      char *path, size_t size)
{
	struct stat st;

	resolve(from, file, path, size);
	if (stat(path, &st) == 0)
		return 0;
	log_error("%s:%u: disk %s: %s; fix the path or put the disk there", vmconfig_path(cfg),
		  vmconfig_line(cfg, "disk", name, "file"), path, strerror(errno));
	return -ENOENT;
}

/* Every disk of cfg (paths relative to from) with its chain into the set. */
static int add_config_disks(struct vset *s, struct vmconfig *cfg, const char *from)
{
	char path[VMCOPY_PATH * 2], what[VMCOPY_PATH + 64];
	int r;

	for (unsigned i = 0; i < vmconfig_count(cfg, "disk"); i++) {
		const char *name = vmconfig_section_name(cfg, "disk", i);
		const char *file = vmconfig_get(cfg, "disk", name, "file");
		if (!file)
			continue;
		if ((r = disk_image(cfg, from, name, file, path, sizeof(path))) < 0)
			return r;
		snprintf(what, sizeof(what), "%s:%u", vmconfig_path(cfg),
			 vmconfig_line(cfg, "disk", name, "file"));
		if ((r = vset_add_chain(s, path, what)) < 0)
			return r;
	}
	return 0;
}

static int add_tree_images(struct vset *s, const struct vmsrc *v, const struct ckpt_image *im,
			   unsigned n)
{
	char path[VMCOPY_PATH * 2], what[VMCOPY_PATH + 64];
	int r;

	for (unsigned i = 0; i < n; i++) {
		resolve(v->from, im[i].file, path, sizeof(path));
		snprintf(what, sizeof(what), "%s/checkpoints.json", v->ckdir);
		if (access(path, F_OK) < 0) {
			log_error("%s names the image %s, which is missing (%s); put it back "
				  "or delete the checkpoints that need it",
				  what, path, strerror(errno));
			return -ENOENT;
		}
		if ((r = vset_add_chain(s, path, what)) < 0)
			return r;
	}
	return 0;
}

/* Disk paths of cfg (relative to from) re-pointed at the copies. */
static int repoint_disks(struct vmconfig *cfg, const struct vset *s, const char *from)
{
	for (unsigned i = 0; i < vmconfig_count(cfg, "disk"); i++) {
		const char *name = vmconfig_section_name(cfg, "disk", i);
		const char *file = vmconfig_get(cfg, "disk", name, "file");
		const char *dst = file ? vset_dst(s, from, file) : NULL;
		if (file &&
		    (!dst || store_config_set(cfg, "disk", name[0] ? name : NULL, "file", dst) < 0))
			return -EINVAL;
	}
	return 0;
}

static int repoint_images(struct ckpt_image *im, unsigned n, const struct vset *s, const char *from)
{
	for (unsigned i = 0; i < n; i++) {
		const char *dst = vset_dst(s, from, im[i].file);
		char *dup = dst ? strdup(dst) : NULL;
		if (!dup) {
			log_error("%s: out of memory", im[i].file);
			return -ENOMEM;
		}
		free(im[i].file);
		im[i].file = dup;
	}
	return 0;
}

/* The checkpoints folder in m->dir: the tree and the configurations re-pointed, the rest as it
 * is. */
static int write_checkpoints(struct vmsrc *v, const struct vset *s, struct made *m)
{
	char dir[VMCOPY_PATH + 16], path[VMCOPY_PATH * 2], src[VMCOPY_PATH * 2];
	char err[VMCOPY_PATH + 256];
	int r;

	snprintf(dir, sizeof(dir), "%s/checkpoints", m->dir);
	if (mkdir(dir, store_file_mode(0700)) < 0) {
		log_error("%s: cannot create it: %s", dir, strerror(errno));
		return -errno;
	}
	if ((r = made_add(m, dir)) < 0) {
		rmdir(dir);
		return r;
	}
	for (unsigned i = 0; i < v->nothers; i++) {
		snprintf(src, sizeof(src), "%s/%s", v->ckdir, v->others[i]);
		snprintf(path, sizeof(path), "%s/%s", dir, v->others[i]);
		if ((r = copy_made(src, path, m)) < 0)
			return r;
	}
	for (unsigned i = 0; i < v->ncc; i++) {
		struct vmconfig *cfg = v->cc[i].cfg;
		snprintf(src, sizeof(src), "%s/%s", v->ckdir, v->cc[i].file);
		snprintf(path, sizeof(path), "%s/%s", dir, v->cc[i].file);
		if (!cfg) {
			r = copy_sparse(src, path);
		} else if ((r = vmcopy_absolute_paths(cfg, v->from)) == 0 &&
			   (r = repoint_disks(cfg, s, v->from)) == 0 &&
			   (r = vmconfig_save(cfg, path)) < 0) {
			log_error("%s: cannot write it: %s", path, strerror(-r));
			unlink(path);
		}
		if (r < 0)
			return r;
		if ((r = made_add(m, path)) < 0) {
			unlink(path);
			return r;
		}
	}
	for (unsigned i = 0; i < v->tree.n; i++) {
		struct ckpt *c = &v->tree.c[i];
		if ((r = repoint_images(c->images, c->nimages, s, v->from)) < 0)
			return r;
	}
	if ((r = repoint_images(v->tree.current, v->tree.ncurrent, s, v->from)) < 0)
		return r;
	snprintf(path, sizeof(path), "%s/checkpoints.json", dir);
	if ((r = ckpt_tree_save(&v->tree, path, err, sizeof(err))) < 0) {
		log_error("%s", err);
		return r;
	}
	if ((r = made_add(m, path)) < 0)
		unlink(path);
	return r;
}

/* Copies whose parent was named by a path now name the parent's copy beside them. */
static int reconnect_copies(const struct vset *s, const char *dir)
{
	char path[VMCOPY_PATH * 2], err[VMCOPY_PATH * 2 + 256];

	for (unsigned i = 0; i < s->n; i++) {
		const struct vfile *f = &s->f[i];
		if (!f->reconnect || f->up < 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, f->dst);
		int r = block_set_parent(path, s->f[f->up].dst, false, err, sizeof(err));
		if (r < 0) {
			log_error("%s (the copy of %s): %s", path, f->src, err);
			return r;
		}
	}
	return 0;
}

int vmcopy_disks(struct vmconfig *cfg, const char *from, struct made *m)
{
	char dst[VMCOPY_PATH * 2];
	struct vset s = {0};
	struct vmsrc v;
	int r;

	if ((r = vmsrc_load(&v, from)) < 0 || (r = add_config_disks(&s, cfg, from)) < 0)
		goto out;
	if (v.has_tree) {
		for (unsigned i = 0; i < v.tree.n; i++)
			if ((r = add_tree_images(&s, &v, v.tree.c[i].images, v.tree.c[i].nimages)) <
			    0)
				goto out;
		if ((r = add_tree_images(&s, &v, v.tree.current, v.tree.ncurrent)) < 0)
			goto out;
		for (unsigned i = 0; i < v.ncc; i++)
			if (v.cc[i].cfg && (r = add_config_disks(&s, v.cc[i].cfg, from)) < 0)
				goto out;
	}
	if ((r = vset_name(&s)) < 0)
		goto out;
	for (unsigned i = 0; i < s.n; i++) {
		snprintf(dst, sizeof(dst), "%s/%s", m->dir, s.f[i].dst);
		if ((r = copy_made(s.f[i].src, dst, m)) < 0)
			goto out;
	}
	if ((r = reconnect_copies(&s, m->dir)) < 0)
		goto out;
	if ((r = repoint_disks(cfg, &s, from)) < 0)
		goto out;
	if (v.has_tree)
		r = write_checkpoints(&v, &s, m);
out:
	vset_free(&s);
	vmsrc_free(&v);
	return r;
}

unsigned vmcopy_count_checkpoints(const char *from)
{
	char path[VMCOPY_PATH + 32], err[VMCOPY_PATH + 256];
	struct ckpt_tree t;
	unsigned n = 0;

	snprintf(path, sizeof(path), "%s/checkpoints/checkpoints.json", from);
	if (ckpt_tree_load(path, &t, err, sizeof(err)) < 0)
		return 0;
	for (unsigned i = 0; i < t.n; i++)
		n += !t.c[i].deleted;
	ckpt_tree_free(&t);
	return n;
}

int vmcopy_disks_in_place(struct vmconfig *cfg, const char *from)
{
	char path[VMCOPY_PATH * 2], err[VMCOPY_PATH + 256];
	struct ckpt_tree t;
	int r;

	snprintf(path, sizeof(path), "%s/checkpoints/checkpoints.json", from);
	if ((r = ckpt_tree_load(path, &t, err, sizeof(err))) < 0) {
		log_error("%s", err);
		return r;
	}
	unsigned n = t.n;
	ckpt_tree_free(&t);
	if (n) {
		log_error("%s has checkpoints (%s): their disk images must move into the VM's "
			  "folder with it; import it with --copy",
			  vmconfig_path(cfg), path);
		return -EINVAL;
	}
	for (unsigned i = 0; i < vmconfig_count(cfg, "disk"); i++) {
		const char *name = vmconfig_section_name(cfg, "disk", i);
		const char *file = vmconfig_get(cfg, "disk", name, "file");
		if (!file)
			continue;
		if (disk_image(cfg, from, name, file, path, sizeof(path)) < 0)
			return -ENOENT;
		if (store_config_set(cfg, "disk", name[0] ? name : NULL, "file", path) < 0)
			return -EINVAL;
	}
	return 0;
}

int vmcopy_saved_state(const char *from, struct made *m)
{
	char src[VMCOPY_PATH + 32], dst[VMCOPY_PATH + 32];
	int r;

	snprintf(src, sizeof(src), "%s/saved.vmstate", from);
	if (access(src, F_OK) < 0)
		return 0;
	snprintf(dst, sizeof(dst), "%s/saved.vmstate", m->dir);
	if ((r = copy_made(src, dst, m)) < 0)
		return r;
	return 1;
}
