/* The PIIX3 IDE function (82371SB function 1, PCI 8086:7010) at 00:01.1:
 * two channels in legacy compatibility mode (0x1F0/0x3F6 on IRQ 14,
 * 0x170/0x376 on IRQ 15), decoded as PCICMD.IOSE and each channel's IDETIM
 * decode enable say; bus-master registers in BAR4; the drives given as
 * devargs drive0..drive3 (with formatN, serialN, originN and on_errorN);
 * media change for the control API. */
#include "devices/ide/ide.h"

#include "devices/device.h"
#include "devices/ide/ide_int.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define PIIX_IDETIM   0x40 /* primary; secondary at 0x42 */
#define PIIX_SIDETIM  0x44
#define IDETIM_DECODE 0x8000
#define PIIX_BM_BAR   4
#define PIIX_BM_SIZE  16

static const struct {
	uint16_t cmd, ctl;
	unsigned irq;
} legacy[2] = {{0x1f0, 0x3f6, 14}, {0x170, 0x376, 15}};

/* --- port decoding ------------------------------------------------------------ */

static void set_decode(struct piix_ide *ide, unsigned i, bool on)
{
	struct ide_channel *ch = &ide->ch[i];
	struct machine *m = ide->m;
	if (on == ch->decoding)
		return;
	if (!on) {
		bus_unregister(m->pio, legacy[i].cmd, ch);
		bus_unregister(m->pio, legacy[i].ctl, ch);
		ch->decoding = false;
		return;
	}
	if (bus_register(m->pio, legacy[i].cmd, 8, &ide_cmd_ops, ch, "piix-ide") < 0) {
		log_warn("piix-ide: ports 0x%x-0x%x are taken; channel %u not decoded",
			 legacy[i].cmd, legacy[i].cmd + 7, i);
		return;
	}
	if (bus_register(m->pio, legacy[i].ctl, 1, &ide_ctl_ops, ch, "piix-ide") < 0) {
		log_warn("piix-ide: port 0x%x is taken; channel %u not decoded", legacy[i].ctl, i);
		bus_unregister(m->pio, legacy[i].cmd, ch);
		return;
	}
	ch->decoding = true;
}

/* The legacy ports answer when I/O space is on and the channel's IDETIM
 * says so. */
void ide_update_decode(struct piix_ide *ide)
{
	pthread_mutex_lock(&ide->decode_lock);
	bool io = pci_cfg_get(&ide->pci, PCI_COMMAND, 2) & PCI_COMMAND_IO;
	for (unsigned i = 0; i < 2; i++) {
		uint16_t idetim = (uint16_t)pci_cfg_get(&ide->pci, PIIX_IDETIM + 2 * i, 2);
		set_decode(ide, i, io && (idetim & IDETIM_DECODE));
	}
	pthread_mutex_unlock(&ide->decode_lock);
}

static void config_write(struct pci_device *d, unsigned off, uint32_t val, unsigned size)
{
	if ((off < PCI_COMMAND + 2 && off + size > PCI_COMMAND) ||
	    (off < PIIX_IDETIM + 4 && off + size > PIIX_IDETIM))
		ide_update_decode(d->opaque);
}

static const struct pci_device_ops piix_ide_pci_ops = {.config_write = config_write};

static void reset_config(struct piix_ide *ide)
{
	struct pci_device *p = &ide->pci;
	pci_cfg_set(p, PCI_STATUS, 0x0280, 2); /* fast back-to-back, medium DEVSEL */
	pci_cfg_set(p, PIIX_IDETIM, 0, 2);
	pci_cfg_set(p, PIIX_IDETIM + 2, 0, 2);
	pci_cfg_set(p, PIIX_SIDETIM, 0, 1);
}

void ide_firmware_setup(void *state)
{
	struct piix_ide *ide = state;
	struct pci_device *p = &ide->pci;
	uint16_t cmd = (uint16_t)pci_config_read(p->bus, p->devfn, PCI_COMMAND, 2);
	pci_config_write(p->bus, p->devfn, PCI_COMMAND, cmd | PCI_COMMAND_IO, 2);
	pci_config_write(p->bus, p->devfn, PIIX_IDETIM, IDETIM_DECODE, 2);
	pci_config_write(p->bus, p->devfn, PIIX_IDETIM + 2, IDETIM_DECODE, 2);
}

/* --- drives ------------------------------------------------------------------- */

static void position_name(unsigned pos, char *buf, size_t len)
{
	snprintf(buf, len, "drive%u (IDE %u:%u)", pos, pos / 2, pos % 2);
}

/* The drive's options besides its image: formatN= (the image format, absent
 * to recognize it), serialN= (IDENTIFY's serial number), originN= (where it
 * was configured, "FILE:LINE", for messages), on_errorN= (report or pause:
 * what a host error on a disk does; pause.c). */
struct drive_opts {
	const char *format, *serial, *origin, *on_error;
};

/* fd: the image's descriptor (taken over), or -1 to open path. */
static int open_image(unsigned pos, const char *what, const char *path, int fd, bool ro,
		      uint32_t sector, const struct drive_opts *o, struct block_dev **out)
{
	char err[512], where[32];
	position_name(pos, where, sizeof(where));
	unsigned flags = ro ? BLOCK_RDONLY : 0;
	int r = fd >= 0 ? block_open_fd(fd, path, o->format, flags, out, err, sizeof(err))
			: block_open(path, o->format, flags, out, err, sizeof(err));
	if (r < 0) {
		if (o->origin)
			log_error("piix-ide: %s: %s (the drive configured at %s)", where, err,
				  o->origin);
		else
			log_error("piix-ide: %s: %s", where, err);
		return r;
	}
	if (block_size(*out) < sector) {
		log_error("piix-ide: %s: %s: the %s is smaller than one %u-byte sector; give "
			  "a %s",
			  where, path, what, sector,
			  sector == CD_SECTOR ? "real ISO image" : "disk image of some size");
		block_close(*out);
		*out = NULL;
		return -EINVAL;
	}
	return 0;
}

/* "disk:PATH", "disk-ro:PATH", "dvd:PATH" or "dvd:" (an empty drive). */
static int add_drive(struct piix_ide *ide, unsigned pos, const char *spec,
		     const struct drive_opts *o)
{
	struct ide_drive *d = &ide->ch[pos / 2].drive[pos % 2];
	const char *path;
	bool dvd = false, ro = false;
	if (strncmp(spec, "disk:", 5) == 0) {
		path = spec + 5;
	} else if (strncmp(spec, "disk-ro:", 8) == 0) {
		path = spec + 8;
		ro = true;
	} else if (strncmp(spec, "dvd:", 4) == 0) {
		path = spec + 4;
		dvd = ro = true;
	} else {
		char where[32];
		position_name(pos, where, sizeof(where));
		log_error("piix-ide: %s: '%s' is not disk:PATH, disk-ro:PATH, dvd:PATH or dvd:",
			  where, spec);
		return -EINVAL;
	}
	if (!dvd && !*path) {
		char where[32];
		position_name(pos, where, sizeof(where));
		log_error("piix-ide: %s: a disk needs an image file (disk:PATH)", where);
		return -EINVAL;
	}
	if (o->on_error && strcmp(o->on_error, "report") && strcmp(o->on_error, "pause")) {
		char where[32];
		position_name(pos, where, sizeof(where));
		log_error("piix-ide: %s: on_error%u='%s' is not report or pause", where, pos,
			  o->on_error);
		return -EINVAL;
	}
	if (*path) {
		int r = open_image(pos, dvd ? "disc image" : "disk image", path, -1, ro,
				   dvd ? CD_SECTOR : ATA_SECTOR, o, &d->blk);
		if (r < 0)
			return r;
		d->sectors = block_size(d->blk) / (dvd ? CD_SECTOR : ATA_SECTOR);
	}
	d->buf =
	    mmap(NULL, IDE_BUF_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (d->buf == MAP_FAILED) {
		d->buf = NULL;
		return -ENOMEM;
	}
	d->kind = dvd ? IDE_DVD : IDE_DISK;
	d->readonly = ro;
	/* A DVD is read-only media: its errors are always reported. */
	d->pause_on_error = !dvd && o->on_error && !strcmp(o->on_error, "pause");
	if (o->serial)
		snprintf(d->serial, sizeof(d->serial), "%s", o->serial);
	else
		snprintf(d->serial, sizeof(d->serial), "OSIO-%s%u", dvd ? "CD" : "HD", pos);
	snprintf(d->model, sizeof(d->model), dvd ? "OSIO DVD-ROM" : "OSIO HARDDISK");
	if (!dvd)
		ata_init_geometry(d);
	return 0;
}

static void free_drives(struct piix_ide *ide)
{
	for (unsigned c = 0; c < 2; c++)
		for (unsigned i = 0; i < 2; i++) {
			struct ide_drive *d = &ide->ch[c].drive[i];
			block_close(d->blk);
			d->blk = NULL;
			if (d->buf)
				munmap(d->buf, IDE_BUF_SIZE);
			d->buf = NULL;
		}
}

/* --- media change -------------------------------------------------------------- */

static struct ide_drive *dvd_at(struct piix_ide *ide, unsigned position)
{
	if (!ide || position >= 4)
		return NULL;
	struct ide_drive *d = &ide->ch[position / 2].drive[position % 2];
	return d->kind == IDE_DVD ? d : NULL;
}

int ide_dvd_insert(void *state, unsigned position, const char *path)
{
	return ide_dvd_insert_fd(state, position, path, -1);
}

int ide_dvd_insert_fd(void *state, unsigned position, const char *path, int fd)
{
	struct ide_drive *d = dvd_at(state, position);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -ENODEV;
	}
	struct block_dev *disc, *old = NULL;
	static const struct drive_opts none;
	int r = open_image(position, "disc image", path, fd, true, CD_SECTOR, &none, &disc);
	if (r < 0)
		return r;
	pthread_mutex_lock(&d->ch->lock);
	r = atapi_insert(d, disc, &old);
	pthread_mutex_unlock(&d->ch->lock);
	block_close(r < 0 ? disc : old);
	return r;
}

int ide_dvd_eject(void *state, unsigned position)
{
	struct ide_drive *d = dvd_at(state, position);
	if (!d)
		return -ENODEV;
	struct block_dev *old = NULL;
	pthread_mutex_lock(&d->ch->lock);
	int r = atapi_eject(d, &old);
	pthread_mutex_unlock(&d->ch->lock);
	block_close(old);
	return r;
}

struct block_dev *ide_disk_block_dev(void *state, unsigned position)
{
	struct piix_ide *ide = state;
	if (!ide || position >= 4)
		return NULL;
	struct ide_drive *d = &ide->ch[position / 2].drive[position % 2];
	return d->kind == IDE_DISK ? d->blk : NULL;
}

/* --- the device model ------------------------------------------------------------ */

static void piix_ide_destroy(void *state)
{
	struct piix_ide *ide = state;
	/* Off the buses first, then no I/O left: closing an image waits
	 * until its last completion has returned. */
	pthread_mutex_lock(&ide->decode_lock);
	for (unsigned i = 0; i < 2; i++)
		set_decode(ide, i, false);
	pthread_mutex_unlock(&ide->decode_lock);
	pci_unregister(&ide->pci);
	for (unsigned i = 0; i < 2; i++)
		ide_channel_stop(&ide->ch[i]);
	ide_pause_fini(ide);
	free_drives(ide);
	for (unsigned i = 0; i < 2; i++) {
		irq_line_release(&ide->ch[i].irq);
		free(ide->ch[i].sg);
		ide_channel_destroy(&ide->ch[i]);
	}
	pthread_mutex_destroy(&ide->decode_lock);
	free(ide);
}

static int piix_ide_create(struct machine *m, const char *id, const struct devargs *args,
			   void **state)
{
	static const char *const keys[] = {
	    "drive0",  "drive1",  "drive2",    "drive3",    "format0",	 "format1",   "format2",
	    "format3", "serial0", "serial1",   "serial2",   "serial3",	 "origin0",   "origin1",
	    "origin2", "origin3", "on_error0", "on_error1", "on_error2", "on_error3", NULL};
	if (devargs_check_keys(args, "piix-ide", keys) < 0)
		return -EINVAL;
	if (!m->pci) {
		log_error("piix-ide: needs a PCI bus (an i440fx host bridge created first)");
		return -ENODEV;
	}
	struct piix_ide *ide = calloc(1, sizeof(*ide));
	if (!ide)
		return -ENOMEM;
	ide->m = m;
	snprintf(ide->id, sizeof(ide->id), "%s", id);
	pthread_mutex_init(&ide->decode_lock, NULL);
	for (unsigned i = 0; i < 2; i++)
		ide_channel_init(&ide->ch[i], ide, i);
	int r = ide_pause_init(ide);
	for (unsigned pos = 0; pos < 4 && r == 0; pos++) {
		char key[12];
		snprintf(key, sizeof(key), "drive%u", pos);
		const char *spec = devargs_get(args, key);
		struct drive_opts o;
		snprintf(key, sizeof(key), "format%u", pos);
		o.format = devargs_get(args, key);
		snprintf(key, sizeof(key), "serial%u", pos);
		o.serial = devargs_get(args, key);
		snprintf(key, sizeof(key), "origin%u", pos);
		o.origin = devargs_get(args, key);
		snprintf(key, sizeof(key), "on_error%u", pos);
		o.on_error = devargs_get(args, key);
		if (o.format && (!*o.format || strcmp(o.format, "auto") == 0))
			o.format = NULL;
		if (spec && *spec)
			r = add_drive(ide, pos, spec, &o);
	}
	for (unsigned i = 0; i < 2 && r == 0; i++) {
		ide->ch[i].cmd_base = legacy[i].cmd;
		ide->ch[i].ctl_base = legacy[i].ctl;
		r = machine_irq_line(m, legacy[i].irq, &ide->ch[i].irq);
		if (r < 0)
			log_error("piix-ide: cannot connect IRQ %u", legacy[i].irq);
	}
	if (r < 0)
		goto fail;

	struct pci_device *p = &ide->pci;
	pci_device_init(p, "piix-ide", 0x8086, 0x7010, 0x010180, 0x00, 0, 0, 0);
	p->ops = &piix_ide_pci_ops;
	p->opaque = ide;
	p->wmask[PCI_COMMAND] = PCI_COMMAND_IO | PCI_COMMAND_MASTER;
	p->wmask[PCI_COMMAND + 1] = 0;
	p->wmask[PCI_LATENCY_TIMER] = 0xf0;
	pci_set_wmask(p, PIIX_IDETIM, 1, 0xff);
	pci_set_wmask(p, PIIX_IDETIM + 1, 1, 0xf3);
	pci_set_wmask(p, PIIX_IDETIM + 2, 1, 0xff);
	pci_set_wmask(p, PIIX_IDETIM + 3, 1, 0xf3);
	pci_set_wmask(p, PIIX_SIDETIM, 1, 0xff);
	reset_config(ide);
	struct pci_bar_desc bar = {
	    .size = PIIX_BM_SIZE, .type = PCI_BAR_IO, .ops = &ide_bm_ops, .opaque = ide};
	r = pci_bar_init(p, PIIX_BM_BAR, &bar);
	if (r == 0)
		r = pci_register(m->pci, p, 1, 1);
	if (r < 0)
		goto fail;
	for (unsigned i = 0; i < 2; i++)
		ide_channel_reset(&ide->ch[i]);
	*state = ide;
	return 0;
fail:
	ide_pause_fini(ide);
	free_drives(ide);
	for (unsigned i = 0; i < 2; i++) {
		irq_line_release(&ide->ch[i].irq);
		ide_channel_destroy(&ide->ch[i]);
	}
	pthread_mutex_destroy(&ide->decode_lock);
	free(ide);
	return r;
}

static void piix_ide_reset(void *state)
{
	struct piix_ide *ide = state;
	pci_device_reset(&ide->pci);
	reset_config(ide);
	ide_update_decode(ide);
	for (unsigned i = 0; i < 2; i++)
		ide_channel_reset(&ide->ch[i]);
}

static const struct device_model piix_ide_model = {
    .name = "piix-ide",
    .description = "PIIX3 IDE: two channels of ATA disks and ATAPI DVD-ROM drives, bus-master DMA",
    .create = piix_ide_create,
    .reset = piix_ide_reset,
    .destroy = piix_ide_destroy,
    .state_version = 1,
    .save = ide_save,
    .load = ide_load,
    .pause = ide_pause,
};
DEVICE_MODEL(piix_ide_model);
