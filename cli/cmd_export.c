/* `osio export NAME DIR` writes the whole VM into DIR/NAME/, importable elsewhere with osio
 * import: its vmconfig (paths relative to the folder where they lay in the VM's folder, absolute
 * otherwise), copies of its disks with their parent chains, its checkpoint tree with every image
 * it names, and its saved state when it is Saved. */
#include "cli/commands.h"
#include "cli/store_common.h"
#include "cli/vmcopy.h"

#include "hypervisor/log.h"
#include "hypervisor/vmstore.h"
#include "vmconfig/vmconfig.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PATH_BUF 4096

static int export_vm(const char *name, const char *dir)
{
	char err[PATH_BUF + 256], line[1024], from[PATH_BUF], path[PATH_BUF * 2];
	struct vmconfig_error e;
	struct vmconfig *cfg = NULL;
	struct made m = {0};
	struct vm_info info;
	int lock = -1, status = 1, saved = 0;

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
	if (vmcopy_absolute_paths(cfg, from) < 0 || vmcopy_disks(cfg, from, &m) < 0)
		goto undo;
	if (info.state == VM_SAVED && (saved = vmcopy_saved_state(from, &m)) < 0)
		goto undo;
	snprintf(path, sizeof(path), "%s/%s.vmconfig", m.dir, name);
	int r = vmconfig_save(cfg, path);
	if (r < 0) {
		log_error("%s: cannot write it: %s", path, strerror(-r));
		goto undo;
	}
	if (made_add(&m, path) < 0) {
		unlink(path);
		goto undo;
	}
	unsigned ckpts = vmcopy_count_checkpoints(m.dir);
	printf("VM '%s' exported to %s", name, m.dir);
	if (ckpts)
		printf(" with its %u checkpoint%s", ckpts, ckpts == 1 ? "" : "s");
	printf("%s.\nImport it with: osio import %s%s\n",
	       !saved  ? ""
	       : ckpts ? " and its saved state"
		       : " with its saved state",
	       path, ckpts ? " --copy" : "");
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
			return store_bad_option(c, argv, "export");
		printf(
		    "usage: osio export NAME DIR\n"
		    "\n"
		    "Writes the VM's vmconfig and copies of its disks (with their parent disks)\n"
		    "into DIR/NAME/, with paths relative to it: 'osio import "
		    "DIR/NAME/NAME.vmconfig'\n"
		    "takes it in on another machine. The VM must be off or Saved: a Saved VM's\n"
		    "saved state goes with it, and so do its checkpoints (checkpoints/ and every\n"
		    "image they keep).\n");
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
