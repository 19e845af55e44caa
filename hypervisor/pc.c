/* The Generation 1 PC: device models, their ids and arguments, and the
 * chipset state firmware would leave for a directly booted kernel.
 *
 * PCI slots: 0 the i440FX, 1 the PIIX3 (ISA bridge, IDE, PM), 2 the display
 * adapter (kept free without one), then from slot 3 in this order: the
 * virtio disks in vmconfig order, the network adapters in vmconfig order,
 * the virtio console, virtio-rng. Adding an adapter leaves the disks where
 * they were; adding a disk moves the adapters. */
#include "hypervisor/pc.h"

#include "devices/device.h"
#include "devices/i440fx.h"
#include "devices/ide/ide.h"
#include "devices/net/net.h"
#include "devices/net/switchdef.h"
#include "devices/pci.h"
#include "hypervisor/boot/firmware.h"
#include "hypervisor/kvm.h"
#include "hypervisor/log.h"
#include "hypervisor/platform.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PIIX4_PM_DEVFN	PCI_DEVFN(1, 3)
#define PIIX4_PMBA	0x40
#define PIIX4_PMREGMISC 0x80

static const struct {
	uint16_t base;
	uint8_t irq;
} com_ports[VM_SERIAL_PORTS] = {
    {0x3f8, IRQ_COM1},
    {0x2f8, IRQ_COM2},
    {0x3e8, IRQ_COM1},
    {0x2e8, IRQ_COM2},
};

static const char *const backend_names[] = {
    [SERIAL_NONE] = "none",	[SERIAL_STDIO] = "stdio", [SERIAL_PTY] = "pty",
    [SERIAL_SOCKET] = "socket", [SERIAL_FILE] = "file",
};

static int add(struct machine *m, const char *model, const char *id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int add(struct machine *m, const char *model, const char *id, const char *fmt, ...)
{
	struct devargs args = {0};
	if (fmt) {
		char text[10 * PATH_MAX];
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(text, sizeof(text), fmt, ap);
		va_end(ap);
		if (n < 0 || (size_t)n >= sizeof(text) || devargs_parse(&args, text) < 0) {
			log_error("%s: bad device arguments '%s'", id, text);
			return -EINVAL;
		}
	}
	return machine_add_device(m, model, id, &args);
}

bool pc_boots_firmware(const struct vm_spec *spec)
{
	return spec->firmware == FIRMWARE_BIOS ||
	       (spec->firmware == FIRMWARE_AUTO && !spec->kernel[0]);
}

/* Appends ",key=VALUE" (the value quoted) to out, which holds n bytes. */
static int append_arg(char *out, size_t size, size_t *n, const char *key, const char *value)
{
	char quoted[2 * PATH_MAX + 40];
	if (devargs_quote(quoted, sizeof(quoted), value) < 0)
		return -E2BIG;
	int w = snprintf(out + *n, size - *n, "%s%s=%s", *n ? "," : "", key, quoted);
	if (w < 0 || (size_t)w >= size - *n)
		return -E2BIG;
	*n += (size_t)w;
	return 0;
}

/* "drive0=\"disk:PATH\",drive2=\"dvd:\"" for the IDE function, with
 * formatN=, serialN= and originN= where the spec has them, and
 * on_errorN=pause for the disks under on_disk_error = pause. */
static int ide_args(const struct vm_spec *spec, char *out, size_t size)
{
	size_t n = 0;
	out[0] = 0;
	for (unsigned i = 0; i < VM_IDE_DRIVES; i++) {
		const struct drive_spec *d = &spec->ide[i];
		const char *kind = d->media == DRIVE_DVD    ? "dvd"
				   : d->media == DRIVE_DISK ? (d->readonly ? "disk-ro" : "disk")
							    : NULL;
		if (!kind)
			continue;
		char value[PATH_MAX + 16], key[16];
		int r;
		snprintf(value, sizeof(value), "%s:%s", kind, d->path);
		snprintf(key, sizeof(key), "drive%u", i);
		if ((r = append_arg(out, size, &n, key, value)) < 0)
			return r;
		snprintf(key, sizeof(key), "format%u", i);
		if (d->format[0] && (r = append_arg(out, size, &n, key, d->format)) < 0)
			return r;
		snprintf(key, sizeof(key), "serial%u", i);
		if (d->serial[0] && (r = append_arg(out, size, &n, key, d->serial)) < 0)
			return r;
		snprintf(key, sizeof(key), "origin%u", i);
		if (d->origin[0] && (r = append_arg(out, size, &n, key, d->origin)) < 0)
			return r;
		snprintf(key, sizeof(key), "on_error%u", i);
		if (d->media == DRIVE_DISK && spec->on_disk_error == ON_DISK_ERROR_PAUSE &&
		    (r = append_arg(out, size, &n, key, "pause")) < 0)
			return r;
	}
	return 0;
}

unsigned pc_virtio_disk_slot(const struct vm_spec *spec, unsigned i)
{
	(void)spec;
	return PC_FIRST_FREE_SLOT + i;
}

unsigned pc_nic_slot(const struct vm_spec *spec, unsigned i)
{
	return PC_FIRST_FREE_SLOT + spec->nvirtio + i;
}

/* The virtio functions after the built-in ones, in a fixed order: the
 * disks in vmconfig order, (the network adapters' slots,) then the console,
 * then the entropy source. */
static int add_virtio(struct machine *m, const struct vm_spec *spec)
{
	unsigned slot = PC_FIRST_FREE_SLOT;
	char args[4 * PATH_MAX + 512], id[16];
	int r;

	for (unsigned i = 0; i < spec->nvirtio; i++) {
		const struct drive_spec *d = &spec->virtio[i];
		size_t n = 0;
		char num[16];

		snprintf(id, sizeof(id), "vd%u", i);
		snprintf(num, sizeof(num), "%u", pc_virtio_disk_slot(spec, i));
		r = append_arg(args, sizeof(args), &n, "slot", num);
		if (!r)
			r = append_arg(args, sizeof(args), &n, "file", d->path);
		if (!r && d->format[0])
			r = append_arg(args, sizeof(args), &n, "format", d->format);
		if (!r && d->readonly)
			r = append_arg(args, sizeof(args), &n, "readonly", "on");
		if (!r && d->serial[0])
			r = append_arg(args, sizeof(args), &n, "serial", d->serial);
		snprintf(num, sizeof(num), "%u", d->queues);
		if (!r && d->queues)
			r = append_arg(args, sizeof(args), &n, "queues", num);
		if (!r && spec->on_disk_error == ON_DISK_ERROR_PAUSE)
			r = append_arg(args, sizeof(args), &n, "on_error", "pause");
		if (r < 0)
			goto too_long;
		if ((r = add(m, "virtio-blk", id, "%s", args)) < 0) {
			if (d->origin[0])
				log_error(
				    "the disk is [disk%s%s%s] at %s: fix its file or format there",
				    d->name[0] ? " \"" : "", d->name, d->name[0] ? "\"" : "",
				    d->origin);
			return r;
		}
		slot++;
	}
	slot += spec->nnics; /* the network adapters' (pc_nic_slot) */
	if (spec->console.present) {
		const struct serial_spec *c = &spec->console;
		size_t n = 0;
		char num[16];

		snprintf(num, sizeof(num), "%u", slot++);
		r = append_arg(args, sizeof(args), &n, "slot", num);
		if (!r)
			r = append_arg(args, sizeof(args), &n, "name", "console");
		if (!r)
			r = append_arg(args, sizeof(args), &n, "chardev",
				       backend_names[c->backend]);
		if (!r && c->path[0])
			r = append_arg(args, sizeof(args), &n, "path", c->path);
		if (r < 0)
			goto too_long;
		if ((r = add(m, "virtio-console", "console", "%s", args)) < 0)
			return r;
	}
	if (spec->rng == RNG_VIRTIO && (r = add(m, "virtio-rng", "rng", "slot=%u", slot++)) < 0)
		return r;
	return 0;
too_long:
	log_error("the virtio devices' arguments are too long (paths too long?)");
	return r;
}

/* --- network adapters ---------------------------------------------------- */

/* The iPXE boot ROMs of Debian's ipxe-qemu, as QEMU's pc machine loads them
 * (efi-*.rom: the BIOS image with an EFI one beside it), else the BIOS-only
 * pxe-*.rom. */
static const char *const rom_dirs[] = {"/usr/lib/ipxe/qemu", "/usr/share/qemu"};

/* A ROM of the model in dir: efi-*.rom, else pxe-*.rom. */
static bool rom_in(const char *dir, const char *dev, char *out, size_t size)
{
	static const char *const prefixes[] = {"efi", "pxe"};
	struct stat st;

	for (size_t i = 0; i < 2; i++) {
		snprintf(out, size, "%s/%s-%s.rom", dir, prefixes[i], dev);
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && access(out, R_OK) == 0)
			return true;
	}
	return false;
}

/* $OSIO_FIRMWARE_PATH's directories first, then Debian's. */
static int find_rom(enum nic_model model, char *out, size_t size)
{
	const char *dev = model == NIC_VIRTIO ? "virtio" : "e1000";
	const char *env = getenv("OSIO_FIRMWARE_PATH");

	if (env && *env) {
		char copy[PATH_MAX], *save = NULL;

		snprintf(copy, sizeof(copy), "%s", env);
		for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save))
			if (rom_in(d, dev, out, size))
				return 0;
	}
	for (size_t i = 0; i < sizeof(rom_dirs) / sizeof(rom_dirs[0]); i++)
		if (rom_in(rom_dirs[i], dev, out, size))
			return 0;
	return -ENOENT;
}

bool pc_network_boot(const struct vm_spec *spec)
{
	for (unsigned i = 0; i < spec->boot_order_n; i++)
		if (spec->boot_order[i] == BOOT_NETWORK)
			return spec->nnics > 0;
	return false;
}

/* Whether the adapters get boot ROMs: when the firmware boots and the boot
 * order names network, explicitly, or by default where KVM is
 * hardware-backed (under a KVM without hardware support, such as kvm_pvm,
 * iPXE stops early, and the default order must still boot DVDs and disks).
 * *required: a missing ROM is an error (network named explicitly). */
static bool want_roms(const struct vm_spec *spec, const struct pc_options *opt, bool *required)
{
	bool hardware = false;

	*required = false;
	if (!opt->firmware || !pc_network_boot(spec))
		return false;
	const char *flavour = kvm_flavour(&hardware);

	if (spec->boot_order_set) {
		*required = true;
		if (!hardware)
			log_warn(
			    "boot order names network, but iPXE stops early under a KVM without "
			    "hardware virtualization (%s): the VM will not boot from the network "
			    "here",
			    flavour);
		return true;
	}
	return hardware;
}

/* "nic 'lan' (FILE:LINE)" for messages. */
static void nic_label(const struct nic_spec *n, char *buf, size_t size)
{
	snprintf(buf, size, "nic '%s'%s%s%s", n->name, n->origin[0] ? " (" : "", n->origin,
		 n->origin[0] ? ")" : "");
}

/* The switch an adapter joins (its definition from the store, with the
 * adapter's own forwards, TFTP directory and boot file); kind NONE for one
 * that starts unplugged. Logs one line and returns -errno. */
static int nic_switch(const struct nic_spec *n, struct net_switch_cfg *cfg)
{
	char label[PATH_MAX + 64], err[512];
	bool nat_only = n->nforward || n->tftp[0] || n->bootfile[0];
	struct stat st;
	int r;

	nic_label(n, label, sizeof(label));
	r = switchdef_load(n->switch_name, cfg, err, sizeof(err));
	if (r == -ENOENT && !n->connected) {
		net_switch_cfg_defaults(cfg, NET_SWITCH_NONE, n->switch_name);
	} else if (r == -ENOENT) {
		log_error("%s: no switch '%s'; create it with: osio switch create %s --type "
			  "private (or nat, internal, external: see osio switch --help)",
			  label, n->switch_name, n->switch_name);
		return r;
	} else if (r < 0) {
		log_error("%s: switch '%s': %s", label, n->switch_name, err);
		return r;
	}
	if (nat_only && r == 0 && cfg->kind != NET_SWITCH_NAT) {
		log_error("%s: forward, tftp and bootfile work on a NAT switch only, and '%s' is "
			  "a%s %s switch; remove them or plug the adapter into a NAT switch",
			  label, n->switch_name,
			  cfg->kind == NET_SWITCH_INTERNAL || cfg->kind == NET_SWITCH_EXTERNAL ? "n"
											       : "",
			  net_switch_kind_name(cfg->kind));
		return -EINVAL;
	}
	if (n->tftp[0] && (stat(n->tftp, &st) < 0 || !S_ISDIR(st.st_mode))) {
		log_error("%s: tftp = %s: %s; name a directory that holds the boot files", label,
			  n->tftp, access(n->tftp, F_OK) ? strerror(errno) : "not a directory");
		return -ENOENT;
	}
	cfg->nfwd = 0;
	for (unsigned i = 0; i < n->nforward && i < NET_FORWARDS_MAX; i++) {
		if (net_forward_parse(n->forward[i], &cfg->fwd[cfg->nfwd], err, sizeof(err)) < 0) {
			log_error("%s: forward '%s': %s", label, n->forward[i], err);
			return -EINVAL;
		}
		cfg->nfwd++;
	}
	snprintf(cfg->tftp, sizeof(cfg->tftp), "%s", n->tftp);
	snprintf(cfg->bootfile, sizeof(cfg->bootfile), "%s", n->bootfile);
	if (!n->connected)
		cfg->kind = NET_SWITCH_NONE;
	return 0;
}

/* The prefix length of a netmask (contiguous, as switch definitions hold). */
static unsigned prefix_len(struct in_addr mask)
{
	return (unsigned)__builtin_popcount(mask.s_addr);
}

/* The devargs of adapter i: port keys (NET_PORT_KEYS), slot, rom, queues. */
static int nic_args(const struct vm_spec *spec, unsigned i, const struct net_switch_cfg *cfg,
		    const char *rom, char *out, size_t size)
{
	const struct nic_spec *n = &spec->nics[i];
	char num[32], mac[18], fwd[NET_FORWARDS_MAX * 64], ip[INET_ADDRSTRLEN];
	size_t o = 0, fo = 0;
	int r;

	snprintf(num, sizeof(num), "%u", pc_nic_slot(spec, i));
	net_mac_format(n->mac, mac);
	if ((r = append_arg(out, size, &o, "slot", num)) < 0 ||
	    (r = append_arg(out, size, &o, "mac", mac)) < 0 ||
	    (r = append_arg(out, size, &o, "switch", net_switch_kind_name(cfg->kind))) < 0 ||
	    (r = append_arg(out, size, &o, "switch_name",
			    cfg->name[0] ? cfg->name : n->switch_name)) < 0)
		return r;
	if (cfg->kind == NET_SWITCH_NAT) {
		inet_ntop(AF_INET, &cfg->subnet, ip, sizeof(ip));
		snprintf(num, sizeof(num), "%s/%u", ip, prefix_len(cfg->netmask));
		if ((r = append_arg(out, size, &o, "subnet", num)) < 0)
			return r;
		if (cfg->restricted && (r = append_arg(out, size, &o, "restrict", "on")) < 0)
			return r;
	}
	if (cfg->bridge[0] && (r = append_arg(out, size, &o, "bridge", cfg->bridge)) < 0)
		return r;
	if (cfg->uplink[0] && (r = append_arg(out, size, &o, "uplink", cfg->uplink)) < 0)
		return r;
	fwd[0] = '\0';
	for (unsigned f = 0; f < cfg->nfwd; f++) {
		char one[64];

		net_forward_format(&cfg->fwd[f], one, sizeof(one));
		fo += (size_t)snprintf(fwd + fo, sizeof(fwd) - fo, "%s%s", f ? ";" : "", one);
		if (fo >= sizeof(fwd))
			return -E2BIG;
	}
	if (fwd[0] && (r = append_arg(out, size, &o, "forward", fwd)) < 0)
		return r;
	if (cfg->tftp[0] && (r = append_arg(out, size, &o, "tftp", cfg->tftp)) < 0)
		return r;
	if (cfg->bootfile[0] && (r = append_arg(out, size, &o, "bootfile", cfg->bootfile)) < 0)
		return r;
	if (rom && (r = append_arg(out, size, &o, "rom", rom)) < 0)
		return r;
	/* SeaBIOS runs a ROM only on the PCI ID its header names, and iPXE's
	 * virtio ROM names the modern virtio-net (1af4:1041): with a boot
	 * ROM the adapter is modern-only, as QEMU's disable-legacy=on. */
	if (rom && n->model == NIC_VIRTIO && (r = append_arg(out, size, &o, "legacy", "off")) < 0)
		return r;
	if (n->model == NIC_VIRTIO) {
		unsigned q = n->queues ? n->queues : spec->cpus;

		snprintf(num, sizeof(num), "%u", q < VM_NIC_QUEUES_MAX ? q : VM_NIC_QUEUES_MAX);
		if ((r = append_arg(out, size, &o, "queues", num)) < 0)
			return r;
	}
	return 0;
}

static int add_nics(struct machine *m, const struct vm_spec *spec, const struct pc_options *opt)
{
	char args[4 * PATH_MAX + 2048], rom[PATH_MAX], label[PATH_MAX + 64];
	bool required, roms = want_roms(spec, opt, &required);
	int r;

	for (unsigned i = 0; i < spec->nnics; i++) {
		const struct nic_spec *n = &spec->nics[i];
		const char *model = n->model == NIC_VIRTIO ? "virtio-net" : "e1000";
		struct net_switch_cfg cfg;
		bool have_rom = false;

		nic_label(n, label, sizeof(label));
		if (!n->has_mac) {
			log_error("%s: no MAC address", label); /* osio run gives one */
			return -EINVAL;
		}
		if (machine_device(m, n->name)) {
			log_error(
			    "%s: the machine has a device called '%s' already; give the adapter "
			    "another name",
			    label, n->name);
			return -EEXIST;
		}
		if ((r = nic_switch(n, &cfg)) < 0)
			return r;
		if (roms) {
			have_rom = find_rom(n->model, rom, sizeof(rom)) == 0;
			if (!have_rom && required) {
				log_error("%s: network boot needs iPXE's %s ROM (efi-%s.rom or "
					  "pxe-%s.rom in /usr/lib/ipxe/qemu): install Debian's "
					  "ipxe-qemu package, or remove network from [boot] order",
					  label, model, n->model == NIC_VIRTIO ? "virtio" : "e1000",
					  n->model == NIC_VIRTIO ? "virtio" : "e1000");
				return -ENOENT;
			}
		}
		if ((r = nic_args(spec, i, &cfg, have_rom ? rom : NULL, args, sizeof(args))) < 0) {
			log_error("%s: its settings are too long (paths too long?)", label);
			return r;
		}
		if ((r = add(m, model, n->name, "%s", args)) < 0) {
			if (n->origin[0])
				log_error("the adapter is [nic \"%s\"] at %s", n->name, n->origin);
			return r;
		}
	}
	return 0;
}

/* A path as a quoted devargs value. */
static const char *quote(const char *path, char *buf, size_t size)
{
	if (devargs_quote(buf, size, path) < 0)
		snprintf(buf, size, "\"\""); /* too long: the device names the problem */
	return buf;
}

int pc_create(struct machine *m, const struct vm_spec *spec, const struct pc_options *opt)
{
	int r;
	/* The chipset first: it makes the PCI bus the others join. */
	if ((r = add(m, "i440fx", "i440fx", NULL)) < 0 ||
	    (r = add(m, "piix3", "piix3", NULL)) < 0 ||
	    (r = add(m, "acpi-pm", "acpi-pm", NULL)) < 0 ||
	    (r = add(m, "piix4-pm", "piix4-pm", NULL)) < 0)
		return r;
	char drives[16 * PATH_MAX + 512], q[2 * PATH_MAX + 8];
	if ((r = ide_args(spec, drives, sizeof(drives))) < 0) {
		log_error("the IDE drives' paths are too long");
		return r;
	}
	if ((r = add(m, "piix-ide", "ide", "%s", drives)) < 0)
		return r;
	/* Slot 2 is the display adapter's, with or without one. */
	if (spec->display == DISPLAY_VGA) {
		char rom[PATH_MAX];
		/* The VGA BIOS matters only to firmware; a kernel booted
		 * directly drives the card itself. */
		if (opt->firmware) {
			if ((r = firmware_find(spec->vgabios, FIRMWARE_VGABIOS_DEFAULT, rom,
					       sizeof(rom))) < 0 ||
			    (r = add(m, "vga", "vga", "rom=%s", quote(rom, q, sizeof(q)))) < 0)
				return r;
		} else if ((r = add(m, "vga", "vga", "rom=none")) < 0) {
			return r;
		}
	}
	/* vmmouse beside the PS/2 mouse: the absolute pointer Linux's psmouse
	 * and X.org find without a USB or virtio stack (devices/vmmouse.c). */
	if ((r = add(m, "i8042", "i8042", NULL)) < 0 ||
	    (r = add(m, "vmmouse", "vmmouse", "i8042=i8042")) < 0 ||
	    (r = add(m, "rtc", "rtc", NULL)) < 0 || (r = add(m, "fw_cfg", "fw_cfg", NULL)) < 0 ||
	    (r = add(m, "debug-exit", "debug-exit", NULL)) < 0 ||
	    (r = add(m, "port80", "port80", NULL)) < 0)
		return r;
	if ((r = add_virtio(m, spec)) < 0)
		return r;
	if (opt->firmware_log && (r = add(m, "debugcon", "debugcon", "path=%s",
					  quote(opt->firmware_log, q, sizeof(q)))) < 0)
		return r;
	for (unsigned i = 0; i < VM_SERIAL_PORTS; i++) {
		const struct serial_spec *s = &spec->serial[i];
		if (!s->present)
			continue;
		char id[8];
		snprintf(id, sizeof(id), "com%u", i + 1);
		r = add(m, "uart16550", id, "base=0x%x,irq=%u,name=COM%u,backend=%s%s%s",
			com_ports[i].base, com_ports[i].irq, i + 1, backend_names[s->backend],
			s->path[0] ? ",path=" : "", s->path[0] ? quote(s->path, q, sizeof(q)) : "");
		if (r < 0)
			return r;
	}
	/* Last, so that a name clash with the devices above is theirs to
	 * report; their slots are fixed by pc_nic_slot all the same. */
	return add_nics(m, spec, opt);
}

void pc_firmware_handover(struct machine *m)
{
	void *hb = machine_device(m, "i440fx");
	if (hb)
		i440fx_shadow_ram(hb);
	void *ide = machine_device(m, "ide");
	if (ide)
		ide_firmware_setup(ide); /* legacy port decoding on, as a BIOS leaves it */
	if (m->pci && pci_find(m->pci, PIIX4_PM_DEVFN)) {
		pci_config_write(m->pci, PIIX4_PM_DEVFN, PIIX4_PMBA, PORT_ACPI_PM | 1, 4);
		pci_config_write(m->pci, PIIX4_PM_DEVFN, PIIX4_PMREGMISC, 1, 1);
	}
}
