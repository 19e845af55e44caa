/* `osio create NAME`: a complete VM in the store (hypervisor/vmstore.h): its
 * folder, a new dynamic VHDX, a DVD drive, a network adapter and the
 * vmconfig that ties them together. A failure leaves nothing behind. */
#include "cli/commands.h"
#include "cli/disk_common.h"
#include "cli/store_common.h"

#include "devices/block/block.h"
#include "devices/net/switchdef.h"
#include "hypervisor/log.h"
#include "hypervisor/store.h"
#include "hypervisor/vmstore.h"
#include "vmconfig/vmconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PATH_BUF 4096

static void create_usage(FILE *f)
{
	fprintf(f,
		"usage: osio create NAME [OPTIONS]\n"
		"\n"
		"Makes a new VM in the VM store: its folder, a new dynamic VHDX disk NAME.vhdx on\n"
		"IDE 0:0, a DVD drive on IDE 1:0 and a network adapter on the NAT switch\n"
		"'default'. Start it with 'osio start NAME'.\n"
		"\n"
		"  -m, --memory SIZE       guest RAM (default 2G)\n"
		"  -c, --cpus N            virtual processors (default 2)\n"
		"  -d, --disk SIZE|none    the new disk's size (default 40G; it takes host space\n"
		"                          only as the guest writes), or none for no disk\n"
		"      --disk-bus ide|virtio\n"
		"                          the disk's controller (default ide; virtio is faster\n"
		"                          and needs virtio drivers in the guest)\n"
		"      --dvd FILE          an ISO image in the DVD drive (default: empty drive)\n"
		"  -s, --switch NAME|none  the adapter's virtual switch (default 'default', NAT;\n"
		"                          osio switch list), or none for no adapter\n"
		"      --nic-model e1000|virtio\n"
		"                          the adapter (default e1000)\n"
		"  -b, --boot ORDER        boot order, e.g. 'dvd,disk' (default dvd,disk with\n"
		"                          --dvd, else disk,dvd)\n"
		"  -h, --help              this text\n"
		"\n"
		"Names: 1-64 letters, digits, '-', '_' or '.', not starting with '.' or '-'.\n"
		"Example: osio create devbox --memory 4G --dvd ~/Downloads/debian-12.iso\n");
}

struct create_args {
	const char *name;
	const char *memory, *cpus, *disk, *bus, *dvd, *sw, *model, *boot;
	uint64_t disk_size; /* 0: no disk */
	char iso[PATH_MAX];
};

/* A value checked as the vmconfig would check it: 0, or 2 with a message. */
static int check_value(const char *opt, const char *section, const char *key, const char *value)
{
	char msg[512];

	if (vmconfig_check_value(section, key, value, msg, sizeof(msg)) == 0)
		return 0;
	log_error("%s: %s", opt, msg);
	return 2;
}

/* Everything that can be checked before anything is made. 0, 1 or 2. */
static int check_args(struct create_args *a)
{
	char err[512];

	if (vmstore_check_name(a->name, err, sizeof(err)) < 0 ||
	    vmconfig_check_name(a->name, err, sizeof(err)) < 0) {
		log_error("%s", err);
		return 1;
	}
	if (check_value("--memory", "vm", "memory", a->memory) ||
	    check_value("--cpus", "vm", "cpus", a->cpus) ||
	    (a->boot && check_value("--boot", "boot", "order", a->boot)) ||
	    check_value("--nic-model", "nic", "model", a->model) ||
	    check_value("--disk-bus", "disk", "bus", a->bus))
		return 2;
	if (strcmp(a->disk, "none") != 0) {
		if (disk_parse_size(a->disk, "--disk", &a->disk_size) < 0)
			return 2;
		if (a->disk_size == 0) {
			log_error("--disk: a disk needs at least 512 bytes (or --disk none)");
			return 2;
		}
	}
	if (strcmp(a->sw, "none") != 0) {
		struct net_switch_cfg sw;
		if (switchdef_load(a->sw, &sw, err, sizeof(err)) < 0) {
			log_error("--switch: %s", err);
			return 1;
		}
	}
	if (a->dvd) {
		struct stat st;
		int fd = open(a->dvd, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) < 0 || !realpath(a->dvd, a->iso)) {
			log_error("--dvd %s: %s; give the path of an ISO image", a->dvd,
				  strerror(errno));
			if (fd >= 0)
				close(fd);
			return 1;
		}
		close(fd);
		if (!S_ISREG(st.st_mode)) {
			log_error("--dvd %s: not a file; give the path of an ISO image", a->dvd);
			return 1;
		}
	}
	return 0;
}

/* The vmconfig of the new VM, written to path (shown: where it goes in
 * the end, for messages). */
static int write_vmconfig(const struct create_args *a, const char *path, const char *shown)
{
	char head[512], disk[96], when[32];
	time_t now = time(NULL);
	struct tm tm;
	struct vmconfig_error e;
	char line[1024];
	int r = -EINVAL;

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", localtime_r(&now, &tm));
	snprintf(head, sizeof(head),
		 "# %s: made by osio create on %s. Edit it while the VM is off;\n"
		 "# osio-vmconfig(5) describes every key. Paths are relative to this folder.\n",
		 a->name, when);
	struct vmconfig *cfg = vmconfig_parse(head, strlen(head), path, &e);
	if (!cfg) {
		vmconfig_error_format(&e, line, sizeof(line));
		fprintf(stderr, "%s\n", line);
		return -EINVAL;
	}
	if (store_config_set(cfg, "vm", NULL, "name", a->name) ||
	    store_config_set(cfg, "vm", NULL, "memory", a->memory) ||
	    store_config_set(cfg, "vm", NULL, "cpus", a->cpus))
		goto out;
	const char *order = a->boot ? a->boot : a->dvd ? "dvd, disk" : "disk, dvd";
	if (store_config_set(cfg, "boot", NULL, "order", order))
		goto out;
	if (a->disk_size) {
		snprintf(disk, sizeof(disk), "%s.vhdx", a->name);
		if (store_config_set(cfg, "disk", "system", "file", disk) ||
		    store_config_set(cfg, "disk", "system", "bus", a->bus))
			goto out;
		if (strcmp(a->bus, "ide") == 0 &&
		    (store_config_set(cfg, "disk", "system", "controller", "0") ||
		     store_config_set(cfg, "disk", "system", "location", "0")))
			goto out;
	}
	if ((a->dvd && store_config_set(cfg, "dvd", "dvd", "file", a->iso)) ||
	    store_config_set(cfg, "dvd", "dvd", "controller", "1") ||
	    store_config_set(cfg, "dvd", "dvd", "location", "0"))
		goto out;
	if (strcmp(a->sw, "none") != 0) {
		unsigned added;
		if (store_config_set(cfg, "nic", "lan", "model", a->model) ||
		    store_config_set(cfg, "nic", "lan", "switch", a->sw))
			goto out;
		if (vmconfig_add_macs(cfg, &added, NULL, 0, &e) < 0) {
			vmconfig_error_format(&e, line, sizeof(line));
			fprintf(stderr, "%s\n", line);
			goto out;
		}
	}
	if (vmconfig_validate(cfg, &e) < 0) {
		vmconfig_error_format(&e, line, sizeof(line));
		fprintf(stderr, "%s\n", line);
		goto out;
	}
	if ((r = vmconfig_save(cfg, path)) < 0)
		log_error("%s: cannot write it: %s", shown, strerror(-r));
out:
	vmconfig_free(cfg);
	return r;
}

/* Removes what a failed create made in its hidden folder dir. */
static void undo(const char *dir, const struct create_args *a)
{
	char path[PATH_BUF + 128];

	snprintf(path, sizeof(path), "%s/%s.vmconfig", dir, a->name);
	unlink(path);
	snprintf(path, sizeof(path), "%s/%s.vhdx", dir, a->name);
	unlink(path);
	if (rmdir(dir) < 0)
		log_warn("%s: could not remove the half-made VM folder: %s", dir, strerror(errno));
}

static int make_vm(struct create_args *a)
{
	char tmp[PATH_BUF], dir[PATH_BUF], path[PATH_BUF + 128], err[PATH_BUF + 256];
	int r;

	if (vmstore_exists(a->name)) {
		log_error("VM '%s' exists already; choose another name, or remove it with osio "
			  "delete %s",
			  a->name, a->name);
		return 1;
	}
	if ((r = vmstore_path(a->name, NULL, dir, sizeof(dir))) < 0 ||
	    (r = vmstore_new_dir(a->name, tmp, sizeof(tmp), err, sizeof(err))) < 0) {
		log_error("%s", r == -ENAMETOOLONG ? store_path_problem(r) : err);
		return 1;
	}
	if (a->disk_size) {
		struct block_create_opts o = {.size = a->disk_size};
		snprintf(path, sizeof(path), "%s/%s.vhdx", tmp, a->name);
		r = block_create(path, "vhdx", &o, err, sizeof(err));
		if (r < 0) {
			/* Named where it was to be. */
			snprintf(path, sizeof(path), "%s/%s.vhdx", dir, a->name);
			if (r == -ENOSPC)
				log_error("%s: no space left on the host for the new disk; free "
					  "some space",
					  path);
			else
				disk_log_failure(path, err, r);
			goto fail;
		}
	}
	char shown[PATH_BUF + 128];
	snprintf(path, sizeof(path), "%s/%s.vmconfig", tmp, a->name);
	snprintf(shown, sizeof(shown), "%s/%s.vmconfig", dir, a->name);
	if (write_vmconfig(a, path, shown) < 0)
		goto fail;
	if (vmstore_publish(a->name, tmp, err, sizeof(err)) < 0) {
		log_error("%s", err);
		goto fail;
	}

	char mem[32], size[32];
	uint64_t bytes = 0;
	vmconfig_parse_size(a->memory, &bytes, err, sizeof(err));
	printf("VM '%s' created in %s: %s memory, %s vCPU%s", a->name, dir,
	       disk_format_size(bytes, mem, sizeof(mem)), a->cpus, strcmp(a->cpus, "1") ? "s" : "");
	if (a->disk_size)
		printf(", disk %s.vhdx (%s, dynamic, %s)", a->name,
		       disk_format_size(a->disk_size, size, sizeof(size)), a->bus);
	printf(", DVD drive %s", a->dvd ? a->iso : "(empty)");
	if (strcmp(a->sw, "none") != 0)
		printf(", network adapter (%s) on switch '%s'", a->model, a->sw);
	printf(".\nStart it with: osio start %s\n", a->name);
	return 0;

fail:
	undo(tmp, a);
	return 1;
}

int cmd_create(int argc, char **argv)
{
	enum { OPT_DISK_BUS = 256, OPT_DVD, OPT_NIC_MODEL };
	static const struct option opts[] = {
	    {"memory", required_argument, NULL, 'm'},
	    {"cpus", required_argument, NULL, 'c'},
	    {"disk", required_argument, NULL, 'd'},
	    {"disk-bus", required_argument, NULL, OPT_DISK_BUS},
	    {"dvd", required_argument, NULL, OPT_DVD},
	    {"switch", required_argument, NULL, 's'},
	    {"nic-model", required_argument, NULL, OPT_NIC_MODEL},
	    {"boot", required_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct create_args a = {
	    .memory = "2G",
	    .cpus = "2",
	    .disk = "40G",
	    .bus = "ide",
	    .sw = "default",
	    .model = "e1000",
	};
	int c;

	log_set_prog("osio create");
	opterr = 0;
	optind = 0;
	while ((c = getopt_long(argc, argv, ":m:c:d:s:b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			a.memory = optarg;
			break;
		case 'c':
			a.cpus = optarg;
			break;
		case 'd':
			a.disk = optarg;
			break;
		case OPT_DISK_BUS:
			a.bus = optarg;
			break;
		case OPT_DVD:
			a.dvd = optarg;
			break;
		case 's':
			a.sw = optarg;
			break;
		case OPT_NIC_MODEL:
			a.model = optarg;
			break;
		case 'b':
			a.boot = optarg;
			break;
		case 'h':
			create_usage(stdout);
			return 0;
		case ':':
			log_error("%s needs a value (see osio create --help)", argv[optind - 1]);
			return 2;
		default:
			log_error("unknown option '%s' (see osio create --help)", argv[optind - 1]);
			return 2;
		}
	}
	if (argc - optind != 1) {
		log_error(argc - optind ? "one VM name, please (see osio create --help)"
					: "which VM? usage: osio create NAME [OPTIONS]");
		return 2;
	}
	a.name = argv[optind];
	int r = check_args(&a);
	return r ? r : make_vm(&a);
}
