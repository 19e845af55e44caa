/* `osio import FILE.vmconfig` takes a VM into the store: its disks left where they are, or
 * copied with --copy (with the checkpoint tree that lies beside the vmconfig: then --copy is
 * needed), and a saved state beside it always copied. osio export (cmd_export.c) writes such a
 * folder. */
#include "cli/commands.h"
#include "cli/store_common.h"
#include "cli/vmcopy.h"

#include "hypervisor/log.h"
#include "hypervisor/vmstore.h"
#include "vmconfig/vmconfig.h"

#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PATH_BUF 4096

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
	int status = 1, saved = 0;
	unsigned ckpts = 0;
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
	if (vmcopy_absolute_paths(cfg, from) < 0 ||
	    (copy ? vmcopy_disks(cfg, from, &m) : vmcopy_disks_in_place(cfg, from)) < 0 ||
	    (saved = vmcopy_saved_state(from, &m)) < 0 ||
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
	if (made_add(&m, path) < 0) {
		unlink(path);
		goto undo;
	}
	if (copy)
		ckpts = vmcopy_count_checkpoints(m.dir);
	if (vmstore_publish(name, m.dir, err, sizeof(err)) < 0) {
		log_error("%s%s", err,
			  strstr(err, "exists already") ? " (--name gives another)" : "");
		goto undo;
	}
	printf("VM '%s' imported from %s%s.\n", name, file,
	       copy ? " (its disks copied into the store)" : " (its disks stay where they are)");
	if (ckpts)
		printf("Its %u checkpoint%s came with it (osio checkpoint %s list).\n", ckpts,
		       ckpts == 1 ? "" : "s", name);
	printf("%s it with: osio start %s\n", saved ? "It is Saved; resume" : "Start", name);
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
			       "disks.\n"
			       "\n"
			       "A saved state (saved.vmstate) beside FILE comes with it: the VM "
			       "is Saved\n"
			       "and osio start resumes it. So does a checkpoint tree "
			       "(checkpoints/ beside\n"
			       "FILE, as osio export writes it), with every image it names; it "
			       "needs --copy,\n"
			       "as a checkpoint's images belong in the VM's folder.\n");
			return 0;
		default:
			return store_bad_option(c, argv, "import");
		}
	}
	if (argc - optind != 1) {
		log_error("which file? usage: osio import FILE.vmconfig [--name NAME] [--copy]");
		return 2;
	}
	return import_vm(argv[optind], name, copy);
}
