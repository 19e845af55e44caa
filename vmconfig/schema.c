/* The vmconfig schema: every section and key with its type, range and
 * default, and the checks of one section name, key or value against it. */
#include "vmconfig/internal.h"

#include "devices/net/net.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define KIB	      (1ull << 10)
#define MIB	      (1ull << 20)
#define TIB	      (1ull << 40)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const on_reboot_choices[] = {"reset", "exit", NULL};
static const char *const bus_choices[] = {"ide", "virtio", NULL};
static const char *const nic_model_choices[] = {"e1000", "virtio", NULL};
static const char *const backend_choices[] = {"stdio", "pty", "socket", "file", "none", NULL};
static const char *const serial_names[] = {"com1", "com2", "com3", "com4", NULL};
static const char *const firmware_choices[] = {"bios", "none", NULL};
static const char *const adapter_choices[] = {"vga", "none", NULL};
static const char *const format_choices[] = {"auto", "raw", "vhdx", "vhd", "qcow2", NULL};
static const char *const on_disk_error_choices[] = {"report", "pause", NULL};
static const char *const rng_choices[] = {"none", "virtio", NULL};
static const char *const stop_action_choices[] = {"shutdown", "save", "off", NULL};

static const struct vmconfig_key_info vm_keys[] = {
    {.key = "name", .type = VMCONFIG_T_NAME, .def = "vm", .help = "the VM's name"},
    {.key = "memory",
     .type = VMCONFIG_T_SIZE,
     .def = "512M",
     .min = MIB,
     .max = 16 * TIB,
     .align = 4 * KIB,
     .help = "guest RAM, e.g. 512M or 2G"},
    {.key = "cpus",
     .type = VMCONFIG_T_UINT,
     .def = "1",
     .min = 1,
     .max = 1024,
     .help = "virtual processors"},
    {.key = "hugepages",
     .type = VMCONFIG_T_BOOL,
     .def = "no",
     .help = "back guest RAM with huge pages"},
    {.key = "on_reboot",
     .type = VMCONFIG_T_ENUM,
     .def = "reset",
     .choices = on_reboot_choices,
     .help = "what a guest reboot does: reset the VM or end osio"},
    {.key = "uuid",
     .type = VMCONFIG_T_UUID,
     .help = "the VM's UUID, as the guest's SMBIOS shows it (default: derived from the name)"},
    {.key = "on_disk_error",
     .type = VMCONFIG_T_ENUM,
     .def = "report",
     .choices = on_disk_error_choices,
     .help = "a host disk error (disk full): report it to the guest, or pause the VM"},
    {.key = "rng",
     .type = VMCONFIG_T_ENUM,
     .def = "none",
     .choices = rng_choices,
     .help = "an entropy source for the guest: none, or virtio (virtio-rng)"},
    /* No default written: the osio user when it exists. */
    {.key = "worker_user",
     .type = VMCONFIG_T_NAME,
     .help = "started as root, the worker becomes this user (default: osio when it exists; "
	     "root: stay root)"},
    /* Autostart and autostop (osio autostart/autostop, run by osio.service
     * at the host's boot and shutdown), as Hyper-V's automatic start and stop
     * actions. */
    {.key = "autostart",
     .type = VMCONFIG_T_BOOL,
     .def = "no",
     .help = "start the VM when the host boots (osio autostart) if it is off or saved"},
    {.key = "autostart_order",
     .type = VMCONFIG_T_UINT,
     .def = "0",
     .min = 0,
     .max = 999,
     .help = "where the VM comes in osio autostart's order: 0-999, lower first, ties by name"},
    {.key = "autostart_delay",
     .type = VMCONFIG_T_UINT,
     .def = "0",
     .min = 0,
     .max = 3600,
     .help = "seconds osio autostart waits before starting this VM (0-3600)"},
    {.key = "stop_action",
     .type = VMCONFIG_T_ENUM,
     .def = "shutdown",
     .choices = stop_action_choices,
     .help = "at the host's shutdown (osio autostop): shutdown (the ACPI power button, then "
	     "save after stop_timeout), save, or off"},
    {.key = "stop_timeout",
     .type = VMCONFIG_T_UINT,
     .def = "120",
     .min = 1,
     .max = 3600,
     .help = "seconds the guest has to shut down at the host's shutdown before it is saved "
	     "(1-3600)"},
};

static const struct vmconfig_key_info boot_keys[] = {
    /* No default written: bios, or none when a kernel is set. */
    {.key = "firmware",
     .type = VMCONFIG_T_ENUM,
     .choices = firmware_choices,
     .help = "bios (SeaBIOS boots from the drives), or none to boot a kernel directly"},
    {.key = "order",
     .type = VMCONFIG_T_LIST,
     .def = "dvd, disk, network",
     .choices = vc_boot_devices,
     .help = "the devices the BIOS boots from, first to last"},
    {.key = "bios",
     .type = VMCONFIG_T_PATH,
     .maxlen = PATH_MAX - 1,
     .help = "the BIOS image (default: Debian's /usr/share/seabios/bios-256k.bin)"},
    {.key = "vgabios",
     .type = VMCONFIG_T_PATH,
     .maxlen = PATH_MAX - 1,
     .help = "the VGA BIOS (default: Debian's /usr/share/seabios/vgabios-stdvga.bin)"},
    {.key = "kernel",
     .type = VMCONFIG_T_PATH,
     .maxlen = PATH_MAX - 1,
     .help = "a Linux bzImage or a multiboot kernel to boot directly"},
    {.key = "initrd",
     .type = VMCONFIG_T_PATH,
     .maxlen = PATH_MAX - 1,
     .help = "the initramfs (Linux) or module (multiboot)"},
    {.key = "append",
     .type = VMCONFIG_T_STRING,
     .allow_empty = true,
     .maxlen = VM_APPEND_MAX - 1,
     .help = "the kernel command line"},
};

static const struct vmconfig_key_info disk_keys[] = {
    {.key = "file",
     .type = VMCONFIG_T_PATH,
     .required = true,
     .maxlen = PATH_MAX - 1,
     .help = "the disk image: VHDX, VHD, qcow2 or raw"},
    {.key = "bus",
     .type = VMCONFIG_T_ENUM,
     .def = "ide",
     .choices = bus_choices,
     .help = "the controller the disk hangs on"},
    {.key = "readonly", .type = VMCONFIG_T_BOOL, .def = "no", .help = "refuse the guest's writes"},
    {.key = "format",
     .type = VMCONFIG_T_ENUM,
     .def = "auto",
     .choices = format_choices,
     .help = "the image format; auto recognizes it by its contents"},
    /* No default written: derived from the VM's and the disk's names. */
    {.key = "serial",
     .type = VMCONFIG_T_STRING,
     .maxlen = VM_DISK_SERIAL_MAX,
     .help = "the serial number the guest reads (up to 20 characters)"},
    /* No default written: one per vCPU. */
    {.key = "queues",
     .type = VMCONFIG_T_UINT,
     .min = 1,
     .max = VM_DISK_QUEUES_MAX,
     .help = "virtio request queues (default: one per vCPU)"},
    /* Hyper-V's names for an IDE position: the controller (channel) and
     * the location on it (master or slave). No default: drives without
     * them are placed by rule. */
    {.key = "controller",
     .type = VMCONFIG_T_UINT,
     .min = 0,
     .max = 1,
     .help = "the IDE controller (channel): 0 or 1"},
    {.key = "location",
     .type = VMCONFIG_T_UINT,
     .min = 0,
     .max = 1,
     .help = "the place on the IDE controller: 0 (master) or 1 (slave)"},
};

static const struct vmconfig_key_info dvd_keys[] = {
    {.key = "file",
     .type = VMCONFIG_T_PATH,
     .allow_empty = true,
     .maxlen = PATH_MAX - 1,
     .help = "the ISO image in the drive; absent or \"\": an empty drive"},
    /* As for [disk]. */
    {.key = "controller",
     .type = VMCONFIG_T_UINT,
     .min = 0,
     .max = 1,
     .help = "the IDE controller (channel): 0 or 1"},
    {.key = "location",
     .type = VMCONFIG_T_UINT,
     .min = 0,
     .max = 1,
     .help = "the place on the IDE controller: 0 (master) or 1 (slave)"},
};

static const struct vmconfig_key_info nic_keys[] = {
    {.key = "switch",
     .type = VMCONFIG_T_NAME,
     .def = "default",
     .help = "the virtual switch the adapter is plugged into (osio switch list)"},
    /* No default written: osio run generates one and writes it here. */
    {.key = "mac",
     .type = VMCONFIG_T_MAC,
     .help = "the adapter's unicast MAC address (default: generated once and kept here)"},
    {.key = "model",
     .type = VMCONFIG_T_ENUM,
     .def = "e1000",
     .choices = nic_model_choices,
     .help = "the adapter: e1000 (Intel 82540EM) or virtio (virtio-net)"},
    {.key = "connected",
     .type = VMCONFIG_T_BOOL,
     .def = "yes",
     .help = "plugged into its switch at start (no: the link is down until connected)"},
    {.key = "forward",
     .type = VMCONFIG_T_FORWARDS,
     .maxlen = VM_NIC_FORWARDS_MAX * VM_NIC_FORWARD_LEN,
     .help = "NAT switch: host ports to the guest, e.g. tcp:127.0.0.1:2222 -> 22 (commas "
	     "between several)"},
    {.key = "tftp",
     .type = VMCONFIG_T_PATH,
     .maxlen = PATH_MAX - 1,
     .help = "NAT switch: a directory the switch's TFTP server offers (network boot)"},
    {.key = "bootfile",
     .type = VMCONFIG_T_STRING,
     .maxlen = 255,
     .help = "NAT switch: the boot file name DHCP hands out (a file in tftp)"},
    /* No default written: one per vCPU. */
    {.key = "queues",
     .type = VMCONFIG_T_UINT,
     .min = 1,
     .max = VM_NIC_QUEUES_MAX,
     .help = "virtio: queue pairs (default: one per vCPU)"},
};

static const struct vmconfig_key_info serial_keys[] = {
    {.key = "backend",
     .type = VMCONFIG_T_ENUM,
     .def = "stdio",
     .choices = backend_choices,
     .help = "where the port's bytes go"},
    {.key = "path",
     .type = VMCONFIG_T_PATH,
     .maxlen = PATH_MAX - 1,
     .help = "the socket or file (backends socket and file)"},
};

/* As [serial], for the virtio console. */
static const struct vmconfig_key_info console_keys[] = {
    {.key = "backend",
     .type = VMCONFIG_T_ENUM,
     .def = "pty",
     .choices = backend_choices,
     .help = "where the console's bytes go"},
    {.key = "path",
     .type = VMCONFIG_T_PATH,
     .maxlen = PATH_MAX - 1,
     .help = "the socket or file (backends socket and file)"},
};

static const struct vmconfig_key_info display_keys[] = {
    {.key = "adapter",
     .type = VMCONFIG_T_ENUM,
     .def = "vga",
     .choices = adapter_choices,
     .help = "the display adapter: standard VGA, or none"},
    /* The default is auto with an adapter, none without. */
    {.key = "vnc",
     .type = VMCONFIG_T_VNC,
     .def = "auto",
     .help = "where the VNC server listens: auto, none, HOST:PORT or /socket"},
    {.key = "vnc_password_file",
     .type = VMCONFIG_T_PATH,
     .maxlen = PATH_MAX - 1,
     .help = "a file (mode 600): the VNC password, and a view-only one on line 2"},
    {.key = "vnc_insecure",
     .type = VMCONFIG_T_BOOL,
     .def = "no",
     .help = "listen on a non-loopback address even without a password"},
    {.key = "keymap",
     .type = VMCONFIG_T_NAME,
     .def = "en-us",
     .help = "keyboard layout of VNC clients that send keysyms (share/keymaps/)"},
};

#define KEYS(a) .keys = a, .nkeys = ARRAY_SIZE(a)

const struct vmconfig_section_info vmconfig_sections[] = {
    {.type = "vm", .naming = VMCONFIG_SINGLE, KEYS(vm_keys), .help = "the machine"},
    {.type = "boot",
     .naming = VMCONFIG_SINGLE,
     KEYS(boot_keys),
     .help = "firmware and boot order, or a kernel booted directly"},
    {.type = "disk", .naming = VMCONFIG_REPEATED, KEYS(disk_keys), .help = "a hard disk"},
    {.type = "dvd", .naming = VMCONFIG_REPEATED, KEYS(dvd_keys), .help = "a DVD drive"},
    {.type = "nic", .naming = VMCONFIG_REPEATED, KEYS(nic_keys), .help = "a network adapter"},
    {.type = "serial",
     .naming = VMCONFIG_PORTS,
     .names = serial_names,
     KEYS(serial_keys),
     .help = "a serial port"},
    {.type = "console",
     .naming = VMCONFIG_SINGLE,
     KEYS(console_keys),
     .help = "a second console for the guest, over virtio-console"},
    {.type = "display", .naming = VMCONFIG_SINGLE, KEYS(display_keys), .help = "the screen"},
};

const unsigned vmconfig_nsections = ARRAY_SIZE(vmconfig_sections);

const struct vmconfig_section_info *vmconfig_schema_section(const char *type)
{
	for (unsigned i = 0; i < vmconfig_nsections; i++)
		if (strcmp(vmconfig_sections[i].type, type) == 0)
			return &vmconfig_sections[i];
	return NULL;
}

const struct vmconfig_key_info *vmconfig_schema_key(const struct vmconfig_section_info *s,
						    const char *key)
{
	for (unsigned i = 0; i < s->nkeys; i++)
		if (strcmp(s->keys[i].key, key) == 0)
			return &s->keys[i];
	return NULL;
}

int vc_check_section(const char *type, const char *name, const struct vmconfig_section_info **out,
		     char *msg, size_t msglen)
{
	const struct vmconfig_section_info *s = vmconfig_schema_section(type);
	const char *cands[ARRAY_SIZE(vmconfig_sections)];
	char label[160], why[160], ex[96];
	const char *hint;
	size_t nnames = 0;

	if (!s) {
		for (unsigned i = 0; i < vmconfig_nsections; i++)
			cands[i] = vmconfig_sections[i].type;
		hint = vc_suggest(type, cands, vmconfig_nsections);
		vc_value_excerpt(type, ex, sizeof(ex));
		if (hint)
			snprintf(msg, msglen, "unknown section [%s]; did you mean [%s]?", ex, hint);
		else
			snprintf(msg, msglen,
				 "unknown section [%s]; sections are [vm], [boot], [disk], [dvd], "
				 "[nic], [serial], [console] and [display]",
				 ex);
		return -EINVAL;
	}
	if (name && !name[0])
		name = NULL;
	vc_section_label(type, name, label, sizeof(label));
	switch (s->naming) {
	case VMCONFIG_SINGLE:
		if (name) {
			snprintf(msg, msglen, "%s: [%s] takes no name; write [%s]", label, type,
				 type);
			return -EINVAL;
		}
		break;
	case VMCONFIG_REPEATED:
		if (name && vmconfig_check_name(name, why, sizeof(why))) {
			snprintf(msg, msglen, "%s: %s", label, why);
			return -EINVAL;
		}
		break;
	case VMCONFIG_PORTS:
		while (s->names[nnames])
			nnames++;
		for (size_t i = 0; name && i < nnames; i++)
			if (strcmp(name, s->names[i]) == 0)
				goto ok;
		if (!name)
			snprintf(msg, msglen, "%s needs a port name; write [%s \"%s\"] (%s to %s)",
				 label, type, s->names[0], s->names[0], s->names[nnames - 1]);
		else
			snprintf(msg, msglen, "%s: %s ports are %s to %s", label, type, s->names[0],
				 s->names[nnames - 1]);
		return -EINVAL;
	}
ok:
	if (out)
		*out = s;
	return 0;
}

/* "a, b and c" into buf. */
static void join_words(const char *const *words, size_t n, const char *last_sep, char *buf,
		       size_t size)
{
	size_t o = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && o < size; i++)
		o += snprintf(buf + o, size - o, "%s%s",
			      i == 0	   ? ""
			      : i + 1 == n ? last_sep
					   : ", ",
			      words[i]);
}

int vc_find_key_info(const struct vmconfig_section_info *s, const char *key,
		     const struct vmconfig_key_info **out, char *msg, size_t msglen)
{
	const struct vmconfig_key_info *k = vmconfig_schema_key(s, key);
	const char *cands[16], *hint, *home = NULL;
	char list[320], ex[96];
	unsigned homes = 0, n = 0;

	if (k) {
		*out = k;
		return 0;
	}
	for (; n < s->nkeys && n < ARRAY_SIZE(cands); n++)
		cands[n] = s->keys[n].key;
	hint = vc_suggest(key, cands, n);
	vc_value_excerpt(key, ex, sizeof(ex));
	if (hint) {
		snprintf(msg, msglen, "unknown key '%s' in [%s]; did you mean '%s'?", ex, s->type,
			 hint);
		return -EINVAL;
	}
	for (unsigned i = 0; i < vmconfig_nsections; i++)
		if (vmconfig_schema_key(&vmconfig_sections[i], key)) {
			home = vmconfig_sections[i].type;
			homes++;
		}
	if (homes == 1) {
		snprintf(msg, msglen, "unknown key '%s' in [%s]; it belongs in [%s]", ex, s->type,
			 home);
		return -EINVAL;
	}
	join_words(cands, n, " and ", list, sizeof(list));
	snprintf(msg, msglen, "unknown key '%s' in [%s]; the keys of [%s] are %s", ex, s->type,
		 s->type, list);
	return -EINVAL;
}

int vc_choice_index(const struct vmconfig_key_info *k, const char *value)
{
	for (int i = 0; k->choices && k->choices[i]; i++)
		if (strcasecmp(k->choices[i], value) == 0)
			return i;
	return -1;
}

/* A size in the largest unit that divides it: "4K", "16T". */
static void format_size(uint64_t v, char *buf, size_t size)
{
	static const char units[] = "KMGT";
	int u = -1;

	while (u < 3 && v && v % 1024 == 0) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, size, "%llu bytes", (unsigned long long)v);
	else
		snprintf(buf, size, "%llu%c", (unsigned long long)v, units[u]);
}

static const char *type_hint(const struct vmconfig_key_info *k, char *buf, size_t size)
{
	char list[128];
	size_t n = 0;

	switch (k->type) {
	case VMCONFIG_T_SIZE:
		return "a size such as 512M or 2G";
	case VMCONFIG_T_UINT:
		snprintf(buf, size, "a number from %llu to %llu", (unsigned long long)k->min,
			 (unsigned long long)k->max);
		return buf;
	case VMCONFIG_T_BOOL:
		return "yes or no";
	case VMCONFIG_T_ENUM:
		while (k->choices[n])
			n++;
		join_words(k->choices, n, " or ", list, sizeof(list));
		snprintf(buf, size, "%s", list);
		return buf;
	case VMCONFIG_T_NAME:
		return "a name of letters, digits, '.', '_' and '-'";
	case VMCONFIG_T_STRING:
		return "some text";
	case VMCONFIG_T_PATH:
		return "a file path";
	case VMCONFIG_T_MAC:
		return "a MAC address such as 52:54:00:12:34:56";
	case VMCONFIG_T_UUID:
		return "a UUID such as 8f2c41a0-6d3e-4b1a-9c55-0e8f7b2d1a64";
	case VMCONFIG_T_FORWARDS:
		return "a port forward such as tcp:127.0.0.1:2222 -> 22 (commas between several)";
	case VMCONFIG_T_VNC:
		return "auto, none, HOST:PORT or an absolute socket path";
	case VMCONFIG_T_LIST:
		while (k->choices[n])
			n++;
		join_words(k->choices, n, ", ", list, sizeof(list));
		snprintf(buf, size, "a list such as %s", list);
		return buf;
	}
	return "a value";
}

static int check_typed(const struct vmconfig_key_info *k, const char *value, size_t *at, char *why,
		       size_t whylen)
{
	char a[32], lower[65], list[128];
	int idx[VC_LIST_MAX];
	const char *hint;
	unsigned nidx;
	uint64_t u;
	uint8_t mac[6];
	bool b;
	size_t len = strlen(value), n = 0;

	switch (k->type) {
	case VMCONFIG_T_SIZE:
		if (vmconfig_parse_size(value, &u, why, whylen))
			return -EINVAL;
		if (u < k->min || u > k->max) {
			format_size(u < k->min ? k->min : k->max, a, sizeof(a));
			if (u < k->min)
				snprintf(why, whylen, "too small; write at least %s", a);
			else
				snprintf(why, whylen, "too large; write at most %s", a);
			return -EINVAL;
		}
		if (k->align && u % k->align) {
			format_size(k->align, a, sizeof(a));
			snprintf(why, whylen, "not a multiple of %s; round it to whole %s pages", a,
				 a);
			return -EINVAL;
		}
		return 0;
	case VMCONFIG_T_UINT:
		return vmconfig_parse_uint(value, k->min, k->max, &u, why, whylen);
	case VMCONFIG_T_BOOL:
		return vmconfig_parse_bool(value, &b, why, whylen);
	case VMCONFIG_T_ENUM:
		if (vc_choice_index(k, value) >= 0)
			return 0;
		while (k->choices[n])
			n++;
		join_words(k->choices, n, ", ", list, sizeof(list));
		hint = NULL;
		if (len < sizeof(lower)) {
			for (size_t i = 0; i <= len; i++)
				lower[i] = (char)tolower((unsigned char)value[i]);
			hint = vc_suggest(lower, k->choices, n);
		}
		if (hint)
			snprintf(why, whylen, "not one of %s; did you mean '%s'?", list, hint);
		else
			snprintf(why, whylen, "not one of %s; write one of them", list);
		return -EINVAL;
	case VMCONFIG_T_NAME:
		return vmconfig_check_name(value, why, whylen);
	case VMCONFIG_T_STRING:
	case VMCONFIG_T_PATH:
		if (k->maxlen && len > k->maxlen) {
			snprintf(why, whylen, "too long (%zu bytes; at most %zu)", len, k->maxlen);
			return -EINVAL;
		}
		return 0;
	case VMCONFIG_T_MAC:
		return vmconfig_parse_mac(value, mac, why, whylen);
	case VMCONFIG_T_UUID: {
		uint8_t uuid[16];
		return vmconfig_parse_uuid(value, uuid, why, whylen);
	}
	case VMCONFIG_T_VNC:
		return vmconfig_parse_vnc(value, NULL, why, whylen);
	case VMCONFIG_T_FORWARDS:
		return vmconfig_parse_forwards(value, NULL, NULL, at, why, whylen);
	case VMCONFIG_T_LIST:
		return vc_parse_list(value, k->choices, idx, &nidx, at, why, whylen);
	}
	return 0;
}

int vc_check_key_value(const struct vmconfig_key_info *k, const char *value, size_t *where,
		       char *msg, size_t msglen)
{
	char why[256], ex[96], hint[160];
	size_t at, part = 0;

	if (where)
		*where = 0;
	if (!value[0] && !k->allow_empty) {
		snprintf(msg, msglen, "%s has no value; write %s%s", k->key,
			 type_hint(k, hint, sizeof(hint)),
			 k->required ? "" : ", or remove the line");
		return -EINVAL;
	}
	vc_value_excerpt(value, ex, sizeof(ex));
	if (vc_check_text(value, strlen(value), k->type == VMCONFIG_T_STRING, &at, why,
			  sizeof(why))) {
		unsigned char c = (unsigned char)value[at];

		snprintf(msg, msglen, "%s = '%s': %s", k->key, ex,
			 c < 0x20 || c == 0x7f ? "contains a control character; remove it"
					       : "not valid UTF-8 text");
		return -EINVAL;
	}
	if (check_typed(k, value, &part, why, sizeof(why))) {
		snprintf(msg, msglen, "%s = '%s': %s", k->key, ex, why);
		if (where)
			*where = part;
		return -EINVAL;
	}
	return 0;
}

int vmconfig_check_value(const char *section, const char *key, const char *value, char *msg,
			 size_t msglen)
{
	const struct vmconfig_section_info *s = vmconfig_schema_section(section);
	const struct vmconfig_key_info *k = NULL;
	char m[512];

	if (!s) {
		vc_check_section(section, NULL, NULL, m, sizeof(m));
		snprintf(msg, msglen, "%s", m);
		return -ENOENT;
	}
	if (vc_find_key_info(s, key, &k, m, sizeof(m))) {
		snprintf(msg, msglen, "%s", m);
		return -ENOENT;
	}
	return vc_check_key_value(k, value, NULL, msg, msglen);
}
