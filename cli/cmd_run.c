/* `osio run`: one VM in the foreground, its serial console on the terminal.
 * Options write into a vmconfig document (from FILE, or empty), so that they
 * are validated exactly like the file and override it. */
#include "cli/commands.h"
#include "cli/vmload.h"

#include "devices/net/net.h"
#include "hypervisor/log.h"
#include "hypervisor/worker.h"
#include "vmconfig/vmconfig.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void run_usage(FILE *f)
{
	fprintf(
	    f,
	    "usage: osio run [OPTIONS] [FILE.vmconfig]\n"
	    "\n"
	    "Runs a VM in the foreground with COM1 on this terminal (Ctrl-A x quits,\n"
	    "Ctrl-A h lists the other keys). Options override the file's settings.\n"
	    "\n"
	    "  -k, --kernel FILE       boot FILE directly: a Linux bzImage or a multiboot kernel\n"
	    "  -i, --initrd FILE       initial ramdisk (Linux) or module (multiboot)\n"
	    "  -a, --append TEXT       kernel command line\n"
	    "  -m, --memory SIZE       guest RAM with a unit, e.g. 512M or 4G (default 512M)\n"
	    "  -c, --cpus N            virtual processors (default 1)\n"
	    "  -n, --name NAME         the VM's name\n"
	    "      --uuid UUID         the VM's UUID (SMBIOS); default: derived from the name\n"
	    "  -s, --serial BACKEND    COM1: stdio, pty, none, socket:PATH or file:PATH\n"
	    "  -d, --disk FILE[,OPT...] a hard disk image (VHDX, VHD, qcow2 or raw); repeat\n"
	    "                          for more. OPT: bus=ide (default) or bus=virtio,\n"
	    "                          format=auto|raw|vhdx|vhd|qcow2, readonly, serial=TEXT,\n"
	    "                          queues=N (virtio)\n"
	    "      --dvd FILE          an IDE DVD drive with FILE (an ISO) in it; --dvd '' for an\n"
	    "                          empty drive\n"
	    "  -b, --boot ORDER        firmware boot order, e.g. dvd,disk (default "
	    "dvd,disk,network)\n"
	    "      --firmware KIND     bios (default without --kernel) or none\n"
	    "      --bios FILE         the BIOS image (default: Debian's SeaBIOS bios-256k.bin)\n"
	    "      --vgabios FILE      the VGA BIOS (default: SeaBIOS's vgabios-stdvga.bin)\n"
	    "      --firmware-log FILE write the firmware's debug log (port 0x402) to FILE\n"
	    "      --timeout TIME      turn the VM off after TIME (e.g. 90s, 5m); status 124\n"
	    "      --screenshot FILE   the VGA screen as PNG when the VM ends (or --after TIME)\n"
	    "      --screen-text FILE  the text-mode screen as text, likewise\n"
	    "      --after TIME        take the screenshot/screen text at TIME, running on\n"
	    "      --vnc ADDR          the VNC server: auto (default: 127.0.0.1, first free\n"
	    "                          port from 5900), none, HOST:PORT or /unix/socket\n"
	    "      --vnc-password-file FILE  VNC password (line 1) and view-only password\n"
	    "                          (line 2); the file must be mode 600\n"
	    "      --vnc-insecure      allow a non-loopback --vnc address without a password\n"
	    "      --keymap NAME       layout of VNC viewers that send keysyms (default en-us)\n"
	    "      --on-reboot ACTION  reset (default) or exit when the guest reboots\n"
	    "      --on-disk-error ACTION  report (default: the guest sees an I/O error) or\n"
	    "                          pause (the VM waits until resumed, e.g. after freeing\n"
	    "                          space on a full host disk) on a host disk error\n"
	    "      --rng               an entropy source for the guest (virtio-rng)\n"
	    "      --console BACKEND   a second console (virtio-console, hvc0 in Linux): pty,\n"
	    "                          stdio, none, socket:PATH or file:PATH\n"
	    "      --nic MODEL[,OPT...] a network adapter: e1000 or virtio; repeat for more.\n"
	    "                          OPT: switch=NAME (default: default, the NAT switch),\n"
	    "                          mac=MAC, forward=SPEC (repeatable; e.g.\n"
	    "                          tcp:127.0.0.1:2222->22), tftp=DIR, bootfile=FILE,\n"
	    "                          queues=N (virtio), connected=no (start unplugged)\n"
	    "      --hugepages         back guest RAM with huge pages\n"
	    "  -q, --quiet             no informational messages\n"
	    "  -h, --help              this text\n"
	    "\n"
	    "Without --kernel the VM starts its BIOS (SeaBIOS), which boots from the\n"
	    "drives in the boot order.\n"
	    "\n"
	    "Exit status: 0 when the guest powers off (or reboots with --on-reboot exit),\n"
	    "the value a test kernel writes to the debug-exit port 0xf4, 1 when the VM\n"
	    "cannot start, 3 when the guest crashes, 124 after --timeout, 2 for a usage\n"
	    "error.\n"
	    "See osio-vmconfig(5) for the file format.\n");
}

/* "90s", "1500ms", "5m", "2h" (a bare number is seconds) into ns; false if
 * not a duration. */
static bool parse_duration(const char *s, uint64_t *ns)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || v < 0 || v > 1e7)
		return false;
	double mult = 1e9;
	if (strcmp(end, "ms") == 0)
		mult = 1e6;
	else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
		mult = 60e9;
	else if (strcmp(end, "h") == 0)
		mult = 3600e9;
	else if (*end && strcmp(end, "s") != 0)
		return false;
	*ns = (uint64_t)(v * mult);
	return *ns > 0;
}

/* A relative path from the command line is relative to the current
 * directory, not to the vmconfig file. */
static int absolute(const char *path, char *out, size_t size)
{
	if (path[0] == '/') {
		if (strlen(path) >= size)
			return -ENAMETOOLONG;
		strcpy(out, path);
		return 0;
	}
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	if ((size_t)snprintf(out, size, "%s/%s", cwd, path) >= size)
		return -ENAMETOOLONG;
	return 0;
}

struct option_setting {
	const char *option;
	const char *section, *name, *key;
	char value[PATH_MAX + 16];
	bool is_path;
	const char *arg; /* the option's whole argument, for messages; NULL: value */
};

/* Options after a --disk file: ",bus=virtio,format=qcow2,readonly". A comma
 * starts them only where one of these keys follows, so a file name may hold
 * commas otherwise. */
static const char *const disk_option_keys[] = {"bus=",	  "format=", "readonly",
					       "serial=", "queues=", NULL};

static bool disk_option_at(const char *s)
{
	for (unsigned i = 0; disk_option_keys[i]; i++) {
		size_t n = strlen(disk_option_keys[i]);
		if (strncmp(s, disk_option_keys[i], n) == 0 &&
		    (disk_option_keys[i][n - 1] == '=' || s[n] == ',' || s[n] == '=' || !s[n]))
			return true;
	}
	return false;
}

/* Splits "FILE,key=value,flag" at the first option; *opts is "" without. */
static void split_disk_arg(char *arg, const char **opts)
{
	*opts = "";
	for (char *c = strchr(arg, ','); c; c = strchr(c + 1, ',')) {
		if (disk_option_at(c + 1)) {
			*c = '\0';
			*opts = c + 1;
			return;
		}
	}
}

/* "stdio", "socket:PATH": the backend word into backend, the path (or
 * NULL) returned; NULL with *bad set when a socket/file has no path. */
static const char *split_backend(const char *arg, char *backend, size_t size, bool *bad)
{
	const char *colon = strchr(arg, ':');
	size_t blen = colon ? (size_t)(colon - arg) : strlen(arg);
	if (blen >= size)
		blen = size - 1;
	memcpy(backend, arg, blen);
	backend[blen] = 0;
	*bad = !colon && (strcmp(backend, "socket") == 0 || strcmp(backend, "file") == 0);
	return colon ? colon + 1 : NULL;
}

static int apply(struct vmconfig *cfg, const struct option_setting *o)
{
	struct vmconfig_error err;
	char abs[PATH_MAX];
	const char *value = o->value;
	if (o->is_path && value[0]) {
		if (absolute(value, abs, sizeof(abs)) < 0) {
			log_error("%s %s: path too long", o->option, value);
			return -EINVAL;
		}
		value = abs;
	}
	if (vmconfig_set(cfg, o->section, o->name, o->key, value, &err) < 0) {
		log_error("%s %s: %s", o->option, o->arg ? o->arg : o->value, err.message);
		return -EINVAL;
	}
	return 0;
}

/* The settings of one --disk's options (after split_disk_arg) for section
 * [disk "name"]: key=value pairs, readonly alone meaning readonly=yes. */
static int disk_options(struct option_setting *settings, unsigned *n, unsigned max,
			const char *name, const char *opts)
{
	char buf[PATH_MAX + 64];
	snprintf(buf, sizeof(buf), "%s", opts);
	for (char *save = NULL, *o = strtok_r(buf, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(o, '=');
		const char *key = o, *value = "yes";
		if (eq) {
			*eq = '\0';
			value = eq + 1;
		}
		if (strcmp(key, "bus") && strcmp(key, "format") && strcmp(key, "readonly") &&
		    strcmp(key, "serial") && strcmp(key, "queues")) {
			log_error("--disk: unknown option '%s'; the options are bus=, format=, "
				  "readonly, serial= and queues=",
				  key);
			return -EINVAL;
		}
		if (*n + 2 >= max) {
			log_error("too many options");
			return -E2BIG;
		}
		struct option_setting *s = &settings[(*n)++];
		*s = (struct option_setting){
		    .option = "--disk", .section = "disk", .name = name, .key = NULL};
		/* The key must outlive buf: point at the table's copy. */
		static const char *const keys[] = {"bus", "format", "readonly", "serial", "queues"};
		for (unsigned i = 0; i < 5; i++)
			if (strcmp(key, keys[i]) == 0)
				s->key = keys[i];
		snprintf(s->value, sizeof(s->value), "%s", value);
	}
	return 0;
}

/* The settings of one --nic MODEL,key=value,... for section [nic "name"]:
 * forward= may repeat (the forwards are joined into one list); tftp is a
 * path relative to here. */
static int nic_options(struct option_setting *settings, unsigned *n, unsigned max, const char *name,
		       const char *arg)
{
	static const char *const keys[] = {"switch",   "mac",	 "forward",   "tftp",
					   "bootfile", "queues", "connected", NULL};
	char buf[PATH_MAX + 64], forwards[PATH_MAX] = "";
	size_t fo = 0;
	char *save = NULL, *o;

	if (strlen(arg) >= sizeof(buf)) {
		log_error("--nic %.40s...: too long", arg);
		return -E2BIG;
	}
	snprintf(buf, sizeof(buf), "%s", arg);
	o = strtok_r(buf, ",", &save);
	if (!o || strchr(o, '=')) {
		log_error("--nic %s: the model comes first: --nic e1000[,OPTION...] or --nic "
			  "virtio[,OPTION...]",
			  arg);
		return -EINVAL;
	}
	if (*n + 10 >= max) {
		log_error("too many options");
		return -E2BIG;
	}
	settings[(*n)++] = (struct option_setting){
	    .option = "--nic", .section = "nic", .name = name, .key = "model", .arg = arg};
	/* QEMU's name for it, too. */
	snprintf(settings[*n - 1].value, sizeof(settings[0].value), "%s",
		 strcmp(o, "virtio-net") == 0 ? "virtio" : o);
	while ((o = strtok_r(NULL, ",", &save))) {
		char *eq = strchr(o, '=');
		const char *key = NULL;

		if (eq)
			*eq = '\0';
		for (unsigned i = 0; keys[i]; i++)
			if (strcmp(o, keys[i]) == 0)
				key = keys[i];
		if (!key || !eq) {
			log_error("--nic %s: %s '%s'; the options are switch=, mac=, forward=, "
				  "tftp=, bootfile=, queues= and connected=",
				  arg, key ? "no value for" : "unknown option", o);
			return -EINVAL;
		}
		if (strcmp(key, "forward") == 0) {
			int w = snprintf(forwards + fo, sizeof(forwards) - fo, "%s%s",
					 fo ? ", " : "", eq + 1);
			if (w < 0 || (size_t)w >= sizeof(forwards) - fo) {
				log_error("--nic %.40s...: too many forwards", arg);
				return -E2BIG;
			}
			fo += (size_t)w;
			continue;
		}
		if (*n + 2 >= max) {
			log_error("too many options");
			return -E2BIG;
		}
		settings[(*n)++] = (struct option_setting){.option = "--nic",
							   .section = "nic",
							   .name = name,
							   .key = key,
							   .is_path = strcmp(key, "tftp") == 0,
							   .arg = arg};
		snprintf(settings[*n - 1].value, sizeof(settings[0].value), "%s", eq + 1);
	}
	if (fo) {
		settings[(*n)++] = (struct option_setting){.option = "--nic",
							   .section = "nic",
							   .name = name,
							   .key = "forward",
							   .arg = arg};
		snprintf(settings[*n - 1].value, sizeof(settings[0].value), "%s", forwards);
	}
	return 0;
}

/* The names of the --nic adapters: "nicK" for the first K no [nic] of the
 * file (nor an earlier --nic) has, so that options add adapters. */
static void name_nics(const struct vmconfig *cfg, char (*names)[16], unsigned n)
{
	unsigned k = 0;

	for (unsigned i = 0; i < n; i++) {
		for (;; k++) {
			bool taken = false;

			snprintf(names[i], 16, "nic%u", k);
			for (unsigned j = 0; j < vmconfig_count(cfg, "nic"); j++)
				taken |=
				    strcmp(vmconfig_section_name(cfg, "nic", j), names[i]) == 0;
			if (!taken)
				break;
		}
		k++;
	}
}

int cmd_run(int argc, char **argv)
{
	enum {
		OPT_ON_REBOOT = 256,
		OPT_HUGEPAGES,
		OPT_DVD,
		OPT_FIRMWARE,
		OPT_BIOS,
		OPT_VGABIOS,
		OPT_FIRMWARE_LOG,
		OPT_TIMEOUT,
		OPT_SCREENSHOT,
		OPT_SCREEN_TEXT,
		OPT_AFTER,
		OPT_UUID,
		OPT_VNC,
		OPT_VNC_PASSWORD_FILE,
		OPT_VNC_INSECURE,
		OPT_KEYMAP,
		OPT_ON_DISK_ERROR,
		OPT_RNG,
		OPT_CONSOLE,
		OPT_NIC,
	};
	static const struct option longopts[] = {
	    {"kernel", required_argument, NULL, 'k'},
	    {"initrd", required_argument, NULL, 'i'},
	    {"append", required_argument, NULL, 'a'},
	    {"memory", required_argument, NULL, 'm'},
	    {"cpus", required_argument, NULL, 'c'},
	    {"name", required_argument, NULL, 'n'},
	    {"serial", required_argument, NULL, 's'},
	    {"on-reboot", required_argument, NULL, OPT_ON_REBOOT},
	    {"hugepages", no_argument, NULL, OPT_HUGEPAGES},
	    {"disk", required_argument, NULL, 'd'},
	    {"dvd", required_argument, NULL, OPT_DVD},
	    {"boot", required_argument, NULL, 'b'},
	    {"firmware", required_argument, NULL, OPT_FIRMWARE},
	    {"bios", required_argument, NULL, OPT_BIOS},
	    {"vgabios", required_argument, NULL, OPT_VGABIOS},
	    {"firmware-log", required_argument, NULL, OPT_FIRMWARE_LOG},
	    {"timeout", required_argument, NULL, OPT_TIMEOUT},
	    {"screenshot", required_argument, NULL, OPT_SCREENSHOT},
	    {"screen-text", required_argument, NULL, OPT_SCREEN_TEXT},
	    {"after", required_argument, NULL, OPT_AFTER},
	    {"uuid", required_argument, NULL, OPT_UUID},
	    {"vnc", required_argument, NULL, OPT_VNC},
	    {"vnc-password-file", required_argument, NULL, OPT_VNC_PASSWORD_FILE},
	    {"vnc-insecure", no_argument, NULL, OPT_VNC_INSECURE},
	    {"keymap", required_argument, NULL, OPT_KEYMAP},
	    {"on-disk-error", required_argument, NULL, OPT_ON_DISK_ERROR},
	    {"rng", no_argument, NULL, OPT_RNG},
	    {"console", required_argument, NULL, OPT_CONSOLE},
	    {"nic", required_argument, NULL, OPT_NIC},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	struct option_setting settings[96];
	unsigned n = 0, disks = 0, dvds = 0;
	char section_names[24][16], nic_names[VM_NICS_MAX][16];
	unsigned nsections = 0, nics = 0;
	struct worker_options wopt = {0};
	char firmware_log[PATH_MAX] = "", screenshot[PATH_MAX] = "", screen_text[PATH_MAX] = "";
	int c;
#define SETTING(opt, sec, nm, k, path)                                                             \
	do {                                                                                       \
		settings[n] = (struct option_setting){                                             \
		    .option = opt, .section = sec, .name = nm, .key = k, .is_path = path};         \
		snprintf(settings[n].value, sizeof(settings[n].value), "%s", optarg);              \
		n++;                                                                               \
	} while (0)
	optind = 1;
	opterr = 0; /* our own one-line messages */
	while ((c = getopt_long(argc, argv, ":k:i:a:m:c:n:s:d:b:qh", longopts, NULL)) != -1) {
		if (n >= sizeof(settings) / sizeof(settings[0]) - 2) {
			log_error("too many options");
			return 2;
		}
		switch (c) {
		case 'k':
			SETTING("--kernel", "boot", NULL, "kernel", true);
			break;
		case 'i':
			SETTING("--initrd", "boot", NULL, "initrd", true);
			break;
		case 'a':
			SETTING("--append", "boot", NULL, "append", false);
			break;
		case 'm':
			SETTING("--memory", "vm", NULL, "memory", false);
			break;
		case 'c':
			SETTING("--cpus", "vm", NULL, "cpus", false);
			break;
		case 'n':
			SETTING("--name", "vm", NULL, "name", false);
			break;
		case OPT_ON_REBOOT:
			SETTING("--on-reboot", "vm", NULL, "on_reboot", false);
			break;
		case OPT_HUGEPAGES:
			optarg = "yes";
			SETTING("--hugepages", "vm", NULL, "hugepages", false);
			break;
		case 's':
		case OPT_CONSOLE: {
			bool console = c == OPT_CONSOLE, bad;
			const char *opt = console ? "--console" : "--serial";
			const char *section = console ? "console" : "serial";
			const char *name = console ? NULL : "com1";
			char backend[32];
			const char *path = split_backend(optarg, backend, sizeof(backend), &bad);
			if (bad) {
				log_error("%s %s needs a path: %s %s:PATH", opt, backend, opt,
					  backend);
				return 1;
			}
			const char *arg = optarg;
			optarg = backend;
			SETTING(opt, section, name, "backend", false);
			if (path) {
				optarg = (char *)path;
				SETTING(opt, section, name, "path", true);
			}
			optarg = (char *)arg;
			break;
		}
		case 'd':
		case OPT_DVD: {
			if (nsections == sizeof(section_names) / sizeof(section_names[0])) {
				log_error("too many --disk and --dvd options");
				return 2;
			}
			char *name = section_names[nsections++];
			if (c == OPT_DVD) {
				snprintf(name, 16, "dvd%u", dvds++);
				SETTING("--dvd", "dvd", name, "file", true);
				break;
			}
			snprintf(name, 16, "disk%u", disks++);
			char *arg = optarg;
			const char *opts;
			split_disk_arg(arg, &opts);
			SETTING("--disk", "disk", name, "file", true);
			if (disk_options(settings, &n, sizeof(settings) / sizeof(settings[0]), name,
					 opts) < 0)
				return 2;
			break;
		}
		case OPT_NIC:
			if (nics == VM_NICS_MAX) {
				log_error("--nic: at most %d network adapters", VM_NICS_MAX);
				return 2;
			}
			/* Named once the file's [nic] names are known. */
			nic_names[nics][0] = '\0';
			if (nic_options(settings, &n, sizeof(settings) / sizeof(settings[0]),
					nic_names[nics++], optarg) < 0)
				return 2;
			break;
		case 'b':
			SETTING("--boot", "boot", NULL, "order", false);
			break;
		case OPT_FIRMWARE:
			SETTING("--firmware", "boot", NULL, "firmware", false);
			break;
		case OPT_BIOS:
			SETTING("--bios", "boot", NULL, "bios", true);
			break;
		case OPT_VGABIOS:
			SETTING("--vgabios", "boot", NULL, "vgabios", true);
			break;
		case OPT_FIRMWARE_LOG:
			if (absolute(optarg, firmware_log, sizeof(firmware_log)) < 0) {
				log_error("--firmware-log %s: path too long", optarg);
				return 2;
			}
			wopt.firmware_log = firmware_log;
			break;
		case OPT_TIMEOUT:
			if (!parse_duration(optarg, &wopt.timeout_ns)) {
				log_error(
				    "--timeout %s: not a duration; write e.g. 90s, 1500ms or 5m",
				    optarg);
				return 2;
			}
			break;
		case OPT_SCREENSHOT:
		case OPT_SCREEN_TEXT: {
			char *dst = c == OPT_SCREENSHOT ? screenshot : screen_text;
			if (absolute(optarg, dst, PATH_MAX) < 0) {
				log_error("%s %s: path too long", argv[optind - 1], optarg);
				return 2;
			}
			if (c == OPT_SCREENSHOT)
				wopt.screenshot = dst;
			else
				wopt.screen_text = dst;
			break;
		}
		case OPT_UUID:
			SETTING("--uuid", "vm", NULL, "uuid", false);
			break;
		case OPT_VNC:
			/* A socket path given relative to here is made absolute. */
			SETTING("--vnc", "display", NULL, "vnc",
				optarg[0] == '.' || (strchr(optarg, '/') && !strchr(optarg, ':')));
			break;
		case OPT_VNC_PASSWORD_FILE:
			SETTING("--vnc-password-file", "display", NULL, "vnc_password_file", true);
			break;
		case OPT_VNC_INSECURE:
			optarg = "yes";
			SETTING("--vnc-insecure", "display", NULL, "vnc_insecure", false);
			break;
		case OPT_KEYMAP:
			SETTING("--keymap", "display", NULL, "keymap", false);
			break;
		case OPT_ON_DISK_ERROR:
			SETTING("--on-disk-error", "vm", NULL, "on_disk_error", false);
			break;
		case OPT_RNG:
			optarg = "virtio";
			SETTING("--rng", "vm", NULL, "rng", false);
			break;
		case OPT_AFTER:
			if (!parse_duration(optarg, &wopt.capture_after_ns)) {
				log_error("--after %s: not a duration; write e.g. 5s or 1500ms",
					  optarg);
				return 2;
			}
			break;
		case 'q':
			log_quiet = true;
			break;
		case 'h':
			run_usage(stdout);
			return 0;
		case ':':
			log_error("run: %s needs a value (see 'osio run --help')",
				  argv[optind - 1]);
			return 2;
		default:
			log_error("run: unknown option '%s' (see 'osio run --help')",
				  argv[optind - 1]);
			return 2;
		}
	}
#undef SETTING
	if (wopt.capture_after_ns && !wopt.screenshot && !wopt.screen_text) {
		log_error("--after needs --screenshot or --screen-text");
		return 2;
	}
	if (argc - optind > 1) {
		log_error("osio run takes at most one vmconfig file (got %d arguments)",
			  argc - optind);
		return 2;
	}
	struct vmconfig *cfg;
	if (optind < argc) {
		cfg = vmload_file(argv[optind]);
	} else {
		cfg = vmconfig_new(NULL);
		if (!cfg)
			log_error("out of memory");
	}
	if (!cfg)
		return 1;
	/* The file's adapters keep the MACs they get, before options mix in. */
	if (optind < argc && vmload_assign_macs(cfg, true) < 0) {
		vmconfig_free(cfg);
		return 1;
	}
	name_nics(cfg, nic_names, nics);
	for (unsigned i = 0; i < n; i++) {
		if (apply(cfg, &settings[i]) < 0) {
			vmconfig_free(cfg);
			return 1;
		}
	}
	struct vm_spec spec;
	if (vmload_assign_macs(cfg, false) < 0 || vmload_spec(cfg, &spec, optind < argc) < 0) {
		vmconfig_free(cfg);
		return 1;
	}
	vmconfig_free(cfg);
	return worker_run(&spec, &wopt);
}
