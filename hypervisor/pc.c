/* The Generation 1 PC: device models, their ids and arguments, and the
 * chipset state firmware would leave for a directly booted kernel. */
#include "hypervisor/pc.h"

#include "devices/device.h"
#include "devices/i440fx.h"
#include "devices/ide/ide.h"
#include "devices/pci.h"
#include "hypervisor/boot/firmware.h"
#include "hypervisor/log.h"
#include "hypervisor/platform.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

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

/* The virtio functions after the built-in ones, in a fixed order: the
 * disks in vmconfig order, then the console, then the entropy source. */
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
	    (r = add(m, "rtc", "rtc", NULL)) < 0 ||
	    (r = add(m, "fw_cfg", "fw_cfg", NULL)) < 0 ||
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
	return 0;
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
