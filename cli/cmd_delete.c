/* `osio delete NAME`: removes a VM from the store with its saved state,
 * checkpoints and log, and its disks once the user has agreed (or kept). */
#include "cli/commands.h"
#include "cli/store_common.h"
#include "cli/disk_common.h"

#include "devices/block/block.h"
#include "hypervisor/log.h"
#include "hypervisor/runtime_dir.h"
#include "hypervisor/vmstore.h"
#include "vmconfig/vmconfig.h"

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_BUF  4096
#define DISKS_MAX 128

struct disk_file {
	char path[PATH_MAX];
	bool inside;   /* in the VM's folder: goes with it */
	uint64_t size; /* what the guest sees */
};

struct victim {
	char dir[PATH_BUF];
	struct disk_file disks[DISKS_MAX];
	unsigned ndisks;
	/* With --keep-disks: every image the disks need (their parents). */
	char (*keep)[PATH_MAX];
	unsigned nkeep;
	/* Why the vmconfig could not be read ("" if it could). */
	char problem[1024];
};

static void delete_usage(FILE *f)
{
	fprintf(f,
		"usage: osio delete NAME [--keep-disks] [--yes]\n"
		"\n"
		"Deletes a VM that is off: its settings, saved state, checkpoints and log.\n"
		"Its disks go too once you agree: on a terminal osio asks first.\n"
		"\n"
		"  -k, --keep-disks   keep the disks (they stay where they are)\n"
		"  -y, --yes          delete the disks in the VM's folder without asking; disks\n"
		"                     elsewhere (osio import without --copy) are kept\n"
		"  -h, --help         this text\n");
}

/* a/b with a relative b; b as it is when absolute. */
static int resolve(const char *dir, const char *file, char *out, size_t size)
{
	int n = file[0] == '/' ? snprintf(out, size, "%s", file)
			       : snprintf(out, size, "%s/%s", dir, file);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static bool in_dir(const char *path, const char *dir)
{
	char real[PATH_MAX], rdir[PATH_MAX];
	size_t n;

	if (!realpath(path, real) || !realpath(dir, rdir))
		return strncmp(path, dir, strlen(dir)) == 0 && path[strlen(dir)] == '/';
	n = strlen(rdir);
	return strncmp(real, rdir, n) == 0 && real[n] == '/';
}

static void add_keep(struct victim *v, const char *path)
{
	char real[PATH_MAX];
	void *nk = realloc(v->keep, (v->nkeep + 1) * sizeof(*v->keep));

	if (!nk)
		return;
	v->keep = nk;
	snprintf(v->keep[v->nkeep++], PATH_MAX, "%s", realpath(path, real) ? real : path);
}

/* The VM's disks from its vmconfig, with their sizes; with keep, their
 * parent chains into v->keep. */
static int find_disks(const char *name, struct victim *v, bool keep)
{
	char path[PATH_BUF], line[1024], dir[PATH_BUF];
	struct vmconfig_error e;
	struct vmconfig *cfg;

	snprintf(dir, sizeof(dir), "%s", v->dir);
	vmstore_vmconfig(name, path, sizeof(path));
	cfg = vmconfig_load(path, &e);
	if (!cfg) {
		vmconfig_error_format(&e, line, sizeof(line));
		snprintf(v->problem, sizeof(v->problem), "%s", line);
		return -EINVAL;
	}
	for (unsigned i = 0; i < vmconfig_count(cfg, "disk") && v->ndisks < DISKS_MAX; i++) {
		const char *sec = vmconfig_section_name(cfg, "disk", i);
		const char *file = vmconfig_get(cfg, "disk", sec, "file");
		struct disk_file *d = &v->disks[v->ndisks];
		struct block_dev *bd;
		struct stat st;

		if (!file)
			continue;
		if (resolve(dir, file, d->path, sizeof(d->path)) < 0 || stat(d->path, &st) < 0)
			continue; /* nothing there to delete */
		d->inside = in_dir(d->path, v->dir);
		d->size = (uint64_t)st.st_size;
		if (block_open(d->path, NULL, BLOCK_RDONLY | BLOCK_SHARE, &bd, NULL, 0) == 0) {
			d->size = block_size(bd);
			for (struct block_dev *b = bd; keep && b; b = block_backing(b))
				add_keep(v, block_path(b));
			block_close(bd);
		} else if (keep) {
			add_keep(v, d->path);
		}
		v->ndisks++;
	}
	vmconfig_free(cfg);
	return 0;
}

/* "x.vhdx, 40 GiB; /srv/data.qcow2, 200 GiB" (inside only, or all). */
static void describe_disks(const struct victim *v, bool all, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < v->ndisks && used + 1 < size; i++) {
		const struct disk_file *d = &v->disks[i];
		const char *base = strrchr(d->path, '/');
		char sz[32];

		if (!all && !d->inside)
			continue;
		int n = snprintf(buf + used, size - used, "%s%s, %s", used ? "; " : "",
				 d->inside ? base + 1 : d->path,
				 disk_format_size(d->size, sz, sizeof(sz)));
		if (n < 0)
			break;
		used += (size_t)n;
	}
}

static struct victim *nftw_victim;

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	struct victim *v = nftw_victim;
	char real[PATH_MAX];

	if (flag == FTW_DP)
		return rmdir(path) < 0 && errno != ENOTEMPTY ? -1 : 0;
	if (v->nkeep && realpath(path, real))
		for (unsigned i = 0; i < v->nkeep; i++)
			if (strcmp(real, v->keep[i]) == 0)
				return 0;
	if (unlink(path) < 0 && errno != ENOENT) {
		log_error("%s: cannot remove it: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* The folder and what is in it (but the images in v->keep). */
static int remove_folder(struct victim *v)
{
	nftw_victim = v;
	return nftw(v->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -EIO;
}

static void remove_runtime(const char *name)
{
	static const char *const ext[] = {"sock", "serial", "list"};
	char dir[PATH_BUF], path[PATH_BUF + 96];

	if (runtime_dir_path(dir, sizeof(dir)) < 0)
		return;
	for (size_t i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext[i]);
		unlink(path);
	}
}

/* y/yes: the user agreed. */
static bool ask(const char *question)
{
	char answer[32];

	printf("%s [y/N] ", question);
	fflush(stdout);
	if (!fgets(answer, sizeof(answer), stdin))
		return false;
	answer[strcspn(answer, "\r\n")] = '\0';
	return strcasecmp(answer, "y") == 0 || strcasecmp(answer, "yes") == 0;
}

static int delete_vm(const char *name, bool keep_disks, bool yes)
{
	char err[512], disks[2048], q[PATH_BUF + 2300], path[PATH_BUF];
	struct victim *v = calloc(1, sizeof(*v));
	struct vm_info info;
	int lock = -1, status = 1;

	if (!v) {
		log_error("out of memory");
		return 1;
	}
	if (vmstore_lock(name, &lock, err, sizeof(err)) < 0) {
		log_error("%s", err);
		goto out;
	}
	if (!vmstore_exists(name) || vmstore_info(name, &info) < 0) {
		log_error("there is no VM called '%s' (osio list shows them)", name);
		goto out;
	}
	switch (info.state) {
	case VM_STARTING:
	case VM_RUNNING:
	case VM_PAUSED:
	case VM_SAVING:
		log_error("VM '%s' is %s (pid %d): turn it off first with osio stop %s (or osio "
			  "shutdown %s)",
			  name, vm_state_name(info.state), info.pid, name, name);
		goto out;
	default:
		break;
	}
	vmstore_path(name, NULL, v->dir, sizeof(v->dir));
	if (find_disks(name, v, keep_disks) < 0) {
		/* Which files are disks is not known: all or nothing. */
		if (keep_disks || (!yes && !isatty(STDIN_FILENO))) {
			fprintf(stderr,
				"%s (so osio cannot tell the disks of VM '%s': fix its vmconfig, "
				"or delete everything in its folder with --yes)\n",
				v->problem, name);
			goto out;
		}
		snprintf(
		    q, sizeof(q),
		    "The vmconfig of VM '%s' cannot be read. Delete the VM and every file in %s?",
		    name, v->dir);
		if (!yes && !ask(q)) {
			printf("Nothing was deleted.\n");
			status = 0;
			goto out;
		}
		yes = true; /* asked */
	}

	bool all = false; /* the disks outside the folder go too */
	if (!keep_disks && !yes && v->ndisks) {
		if (!isatty(STDIN_FILENO)) {
			describe_disks(v, true, disks, sizeof(disks));
			log_error("VM '%s' has disks (%s): add --yes to delete them with it, or "
				  "--keep-disks to keep them",
				  name, disks);
			goto out;
		}
		describe_disks(v, true, disks, sizeof(disks));
		snprintf(q, sizeof(q), "Delete VM '%s' and its disks (%s)?", name, disks);
		if (!ask(q)) {
			printf("Nothing was deleted.\n");
			status = 0;
			goto out;
		}
		all = true;
	} else if (!keep_disks && !yes && isatty(STDIN_FILENO)) {
		snprintf(q, sizeof(q), "Delete VM '%s'?", name);
		if (!ask(q)) {
			printf("Nothing was deleted.\n");
			status = 0;
			goto out;
		}
	}
	if (keep_disks) {
		/* What is outside the folder is kept anyway. */
	} else {
		for (unsigned i = 0; i < v->ndisks; i++)
			if (!v->disks[i].inside && !all)
				add_keep(v, v->disks[i].path);
	}

	/* The vmconfig first: from here on the VM is gone for osio list. */
	vmstore_vmconfig(name, path, sizeof(path));
	if (unlink(path) < 0) {
		log_error("%s: cannot remove it: %s", path, strerror(errno));
		goto out;
	}
	remove_runtime(name);
	if (remove_folder(v) < 0)
		goto out;
	if (!keep_disks)
		for (unsigned i = 0; i < v->ndisks; i++)
			if (!v->disks[i].inside && all && unlink(v->disks[i].path) < 0 &&
			    errno != ENOENT)
				log_warn("%s: cannot remove it: %s", v->disks[i].path,
					 strerror(errno));
	printf("VM '%s' deleted.\n", name);
	for (unsigned i = 0; i < v->ndisks; i++) {
		const struct disk_file *d = &v->disks[i];
		if (keep_disks)
			printf("Kept its disk %s\n", d->path);
		else if (!d->inside && !all)
			printf("Kept %s: it is outside the VM's folder (delete it yourself if "
			       "nothing else uses it)\n",
			       d->path);
	}
	status = 0;
out:
	if (lock >= 0)
		close(lock);
	free(v->keep);
	free(v);
	return status;
}

int cmd_delete(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"keep-disks", no_argument, NULL, 'k'},
	    {"yes", no_argument, NULL, 'y'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	bool keep = false, yes = false;
	int c;

	log_set_prog("osio delete");
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, "kyh", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			keep = true;
			break;
		case 'y':
			yes = true;
			break;
		case 'h':
			delete_usage(stdout);
			return 0;
		default:
			log_error("unknown option '%s' (see osio delete --help)", argv[optind - 1]);
			return 2;
		}
	}
	if (argc - optind != 1) {
		log_error("which VM? usage: osio delete NAME [--keep-disks] [--yes]");
		return 2;
	}
	const char *name = argv[optind];
	if (store_vm_arg(name))
		return 1;
	return delete_vm(name, keep, yes);
}
