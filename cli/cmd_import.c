/* `osio import FILE.vmconfig` takes a VM into the store (its disks left
 * where they are, or copied with --copy); `osio export NAME DIR` writes a
 * VM's vmconfig and copies of its disks into DIR/NAME/, importable
 * elsewhere. Both copy disk images sparsely, with their parent chains. */
#include "cli/commands.h"
#include "cli/store_common.h"

#include "devices/block/block.h"
#include "hypervisor/log.h"
#include "hypervisor/store.h"
#include "hypervisor/vmstore.h"
#include "vmconfig/vmconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_BUF   4096
#define COPY_CHUNK (1024 * 1024)
#define MADE_MAX   256
#define CHAIN_MAX  64

/* Files a failed import/export removes again, last made first. */
struct made {
	char dir[PATH_BUF];
	char *files[MADE_MAX];
	unsigned n;
};

static void made_add(struct made *m, const char *path)
{
	if (m->n < MADE_MAX)
		m->files[m->n++] = strdup(path);
}

static void made_undo(struct made *m, bool remove)
{
	while (m->n) {
		char *f = m->files[--m->n];
		if (remove && f)
			unlink(f);
		free(f);
	}
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

/* Every relative path but the disks' made absolute against dir. */
static int absolute_paths(struct vmconfig *cfg, const char *dir)
{
	char path[PATH_BUF * 2];

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
			ssize_t n = pread(in, buf, len, pos);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				r = n < 0 ? -errno : -EIO;
				log_error("%s: cannot read it: %s", src, strerror(-r));
				goto out;
			}
			if (!all_zero(buf, (size_t)n) && pwrite(out, buf, (size_t)n, pos) != n)
				goto write_fail;
			pos += n;
		}
	}
	if (fsync(out) < 0)
		goto write_fail;
	goto out;
write_fail:
	r = errno ? -errno : -EIO;
	log_error("%s: cannot write it: %s", dst, strerror(-r));
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

/* Copies the image at src and its parents into dir: the image as
 * dir/base (base: its own name, or "-2", "-3" ... added when taken),
 * parents under their own names, which they must be recorded by (a parent
 * in the image's own folder). base gets the name used. */
static int copy_chain(const char *src, const char *dir, struct made *m, char *base, size_t size)
{
	char err[PATH_BUF + 256], chain[CHAIN_MAX][PATH_MAX], dst[PATH_BUF * 2];
	struct block_dev *bd;
	struct block_info bi;
	unsigned n = 0;
	int r;

	if ((r = block_open(src, NULL, BLOCK_RDONLY | BLOCK_SHARE, &bd, err, sizeof(err))) < 0) {
		log_error("%s", err[0] ? err : strerror(-r));
		return r;
	}
	for (struct block_dev *b = bd; b && n < CHAIN_MAX; b = block_backing(b)) {
		snprintf(chain[n++], PATH_MAX, "%s", block_path(b));
		if (block_backing(b) && block_get_info(b, &bi) == 0 && strchr(bi.parent, '/')) {
			log_error("%s: its parent is recorded as %s, a path that the copy cannot "
				  "follow; merge it first (osio disk convert %s NEW.vhdx)",
				  block_path(b), bi.parent, src);
			block_close(bd);
			return -EINVAL;
		}
	}
	block_close(bd);

	/* The top image's name: free in dir. */
	char *name = basename(chain[0]);
	const char *dot = strrchr(name, '.');
	int stem = dot && dot != name ? (int)(dot - name) : (int)strlen(name);
	snprintf(base, size, "%s", name);
	for (int i = 2; i < 1000; i++) {
		snprintf(dst, sizeof(dst), "%s/%s", dir, base);
		if (access(dst, F_OK) < 0)
			break;
		snprintf(base, size, "%.*s-%d%s", stem, name, i, dot && dot != name ? dot : "");
	}
	for (unsigned i = 0; i < n; i++) {
		snprintf(dst, sizeof(dst), "%s/%s", dir, i ? basename(chain[i]) : base);
		if (i && access(dst, F_OK) == 0)
			continue; /* a parent shared with a disk copied before */
		if ((r = copy_sparse(chain[i], dst)) < 0)
			return r;
		made_add(m, dst);
	}
	return 0;
}

/* The disks: copied into dir and named relative to it (copy), or named by
 * their absolute paths. from: the folder they are relative to now. */
static int place_disks(struct vmconfig *cfg, const char *from, const char *dir, bool copy,
		       struct made *m)
{
	char path[PATH_BUF * 2], base[PATH_MAX];
	struct stat st;

	for (unsigned i = 0; i < vmconfig_count(cfg, "disk"); i++) {
		const char *name = vmconfig_section_name(cfg, "disk", i);
		const char *file = vmconfig_get(cfg, "disk", name, "file");
		if (!file)
			continue;
		resolve(from, file, path, sizeof(path));
		if (stat(path, &st) < 0) {
			log_error("%s:%u: disk %s: %s; fix the path or put the disk there",
				  vmconfig_path(cfg), vmconfig_line(cfg, "disk", name, "file"),
				  path, strerror(errno));
			return -ENOENT;
		}
		if (copy) {
			if (copy_chain(path, dir, m, base, sizeof(base)) < 0)
				return -EIO;
			if (store_config_set(cfg, "disk", name[0] ? name : NULL, "file", base) < 0)
				return -EINVAL;
		} else if (store_config_set(cfg, "disk", name[0] ? name : NULL, "file", path) < 0) {
			return -EINVAL;
		}
	}
	return 0;
}

static int bad_option(int c, char **argv, const char *cmd)
{
	if (c == ':')
		log_error("%s needs a value (see osio %s --help)", argv[optind - 1], cmd);
	else
		log_error("unknown option '%s' (see osio %s --help)", argv[optind - 1], cmd);
	return 2;
}

static int check_new_name(const char *name)
{
	char err[512];

	if (vmstore_check_name(name, err, sizeof(err)) < 0 ||
	    vmconfig_check_name(name, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return -EINVAL;
	}
	if (vmstore_exists(name)) {
		log_error("VM '%s' exists already; give the import another name with --name", name);
		return -EEXIST;
	}
	return 0;
}

/* --- import ----------------------------------------------------------------- */

static int import_vm(const char *file, const char *name_opt, bool copy)
{
	char line[1024], name[80], from[PATH_MAX], err[PATH_BUF + 256], path[PATH_BUF + 128];
	struct vmconfig_error e;
	struct made m = {0};
	int status = 1;
	struct vmconfig *cfg = vmconfig_load(file, &e);

	if (!cfg || vmconfig_validate(cfg, &e) < 0) {
		vmconfig_error_format(&e, line, sizeof(line));
		fprintf(stderr, "%s\n", line);
		goto out;
	}
	const char *cfg_name = vmconfig_get(cfg, "vm", NULL, "name");
	if (name_opt) {
		snprintf(name, sizeof(name), "%s", name_opt);
	} else if (cfg_name) {
		snprintf(name, sizeof(name), "%s", cfg_name);
	} else {
		char copy_of[PATH_MAX];
		snprintf(copy_of, sizeof(copy_of), "%s", file);
		char *b = basename(copy_of), *dot = strrchr(b, '.');
		if (dot && strcmp(dot, ".vmconfig") == 0)
			*dot = '\0';
		snprintf(name, sizeof(name), "%s", b);
	}
	if (check_new_name(name) < 0)
		goto out;
	snprintf(path, sizeof(path), "%s", file);
	if (!realpath(dirname(path), from)) {
		log_error("%s: %s", file, strerror(errno));
		goto out;
	}

	if (vmstore_new_dir(name, m.dir, sizeof(m.dir), err, sizeof(err)) < 0) {
		log_error("%s", err);
		m.dir[0] = '\0';
		goto out;
	}
	if (absolute_paths(cfg, from) < 0 || place_disks(cfg, from, m.dir, copy, &m) < 0 ||
	    store_config_set(cfg, "vm", NULL, "name", name) < 0)
		goto undo;
	if (vmconfig_validate(cfg, &e) < 0) {
		vmconfig_error_format(&e, line, sizeof(line));
		fprintf(stderr, "%s\n", line);
		goto undo;
	}
	snprintf(path, sizeof(path), "%s/%s.vmconfig", m.dir, name);
	int r = vmconfig_save(cfg, path);
	if (r < 0) {
		vmstore_vmconfig(name, path, sizeof(path));
		log_error("%s: cannot write it: %s", path, strerror(-r));
		goto undo;
	}
	made_add(&m, path);
	if (vmstore_publish(name, m.dir, err, sizeof(err)) < 0) {
		log_error("%s%s", err,
			  strstr(err, "exists already") ? " (--name gives another)" : "");
		goto undo;
	}
	printf("VM '%s' imported from %s%s.\nStart it with: osio start %s\n", name, file,
	       copy ? " (its disks copied into the store)" : " (its disks stay where they are)",
	       name);
	made_undo(&m, false);
	status = 0;
	goto out;
undo:
	made_undo(&m, true);
out:
	vmconfig_free(cfg);
	return status;
}

int cmd_import(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"name", required_argument, NULL, 'n'},
	    {"copy", no_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	const char *name = NULL;
	bool copy = false;
	int c;

	log_set_prog("osio import");
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":n:ch", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			name = optarg;
			break;
		case 'c':
			copy = true;
			break;
		case 'h':
			printf("usage: osio import FILE.vmconfig [--name NAME] [--copy]\n"
			       "\n"
			       "Takes the VM that FILE describes into the VM store, named NAME "
			       "(default:\n"
			       "its [vm] name, else the file's name). Its disks stay where they "
			       "are and\n"
			       "the store's vmconfig names them by absolute paths; with --copy "
			       "they are\n"
			       "copied into the VM's folder (holes stay holes) with their parent "
			       "disks.\n");
			return 0;
		default:
			return bad_option(c, argv, "import");
		}
	}
	if (argc - optind != 1) {
		log_error("which file? usage: osio import FILE.vmconfig [--name NAME] [--copy]");
		return 2;
	}
	return import_vm(argv[optind], name, copy);
}

/* --- export ----------------------------------------------------------------- */

static int export_vm(const char *name, const char *dir)
{
	char err[PATH_BUF + 256], line[1024], from[PATH_BUF], path[PATH_BUF * 2];
	struct vmconfig_error e;
	struct vmconfig *cfg = NULL;
	struct made m = {0};
	struct vm_info info;
	int lock = -1, status = 1;

	if (vmstore_lock(name, &lock, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return 1;
	}
	if (vmstore_info(name, &info) < 0) {
		log_error("there is no VM called '%s' (osio list shows them)", name);
		goto out;
	}
	if (info.state != VM_OFF && info.state != VM_SAVED && info.state != VM_CRASHED) {
		log_error("VM '%s' is %s: turn it off first (osio shutdown %s), then export it",
			  name, vm_state_name(info.state), name);
		goto out;
	}
	vmstore_vmconfig(name, path, sizeof(path));
	if (!(cfg = vmconfig_load(path, &e))) {
		vmconfig_error_format(&e, line, sizeof(line));
		fprintf(stderr, "%s\n", line);
		goto out;
	}
	vmstore_path(name, NULL, from, sizeof(from));
	struct stat st;
	if (stat(dir, &st) < 0) {
		log_error("%s: %s; give an existing folder to export into", dir, strerror(errno));
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		log_error("%s: not a folder; give an existing folder to export into", dir);
		goto out;
	}
	snprintf(m.dir, sizeof(m.dir), "%s/%s", dir, name);
	if (mkdir(m.dir, 0755) < 0) {
		log_error("%s: %s", m.dir,
			  errno == EEXIST
			      ? "exists already; export into another folder or remove it"
			      : strerror(errno));
		m.dir[0] = '\0';
		goto out;
	}
	if (absolute_paths(cfg, from) < 0 || place_disks(cfg, from, m.dir, true, &m) < 0)
		goto undo;
	snprintf(path, sizeof(path), "%s/%s.vmconfig", m.dir, name);
	int r = vmconfig_save(cfg, path);
	if (r < 0) {
		log_error("%s: cannot write it: %s", path, strerror(-r));
		goto undo;
	}
	made_add(&m, path);
	printf("VM '%s' exported to %s%s.\nImport it with: osio import %s\n", name, m.dir,
	       info.state == VM_SAVED ? " (without its saved state: the copy starts afresh)" : "",
	       path);
	made_undo(&m, false);
	status = 0;
	goto out;
undo:
	made_undo(&m, true);
out:
	vmconfig_free(cfg);
	vmstore_unlock(lock);
	return status;
}

int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	int c;

	log_set_prog("osio export");
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (c != 'h')
			return bad_option(c, argv, "export");
		printf(
		    "usage: osio export NAME DIR\n"
		    "\n"
		    "Writes the VM's vmconfig and copies of its disks (with their parent disks)\n"
		    "into DIR/NAME/, with paths relative to it: 'osio import "
		    "DIR/NAME/NAME.vmconfig'\n"
		    "takes it in on another machine. The VM must be off.\n");
		return 0;
	}
	if (argc - optind != 2) {
		log_error("usage: osio export NAME DIR");
		return 2;
	}
	if (store_vm_arg(argv[optind]))
		return 1;
	return export_vm(argv[optind], argv[optind + 1]);
}
