/* Virtio over PCI (VIRTIO 1.2, 4.1): the function's header and vendor
 * capabilities (common, notify, ISR, device, PCI configuration access),
 * the modern registers in a 64-bit memory BAR, the legacy I/O BAR 0 of a
 * transitional device, MSI-X in BAR 1, and the queues' notify eventfds. */
#include "devices/virtio/virtio_int.h"

#include "hypervisor/bytes.h"
#include "hypervisor/fileio.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROM_MAX (1u << 20)

#define PCI_CAP_ID_VENDOR 0x09
#define VIRTIO_PCI_VENDOR 0x1af4

#define CAP_COMMON  1
#define CAP_NOTIFY  2
#define CAP_ISR	    3
#define CAP_DEVICE  4
#define CAP_PCI_CFG 5

/* Common configuration registers (4.1.4.3). */
enum {
	CC_DFSELECT = 0x00,
	CC_DF = 0x04,
	CC_GFSELECT = 0x08,
	CC_GF = 0x0c,
	CC_MSIX = 0x10,
	CC_NUMQ = 0x12,
	CC_STATUS = 0x14,
	CC_GEN = 0x15,
	CC_Q_SELECT = 0x16,
	CC_Q_SIZE = 0x18,
	CC_Q_MSIX = 0x1a,
	CC_Q_ENABLE = 0x1c,
	CC_Q_NOFF = 0x1e,
	CC_Q_DESC = 0x20,
	CC_Q_DRIVER = 0x28,
	CC_Q_DEVICE = 0x30,
	CC_Q_NDATA = 0x38,
	CC_Q_RESET = 0x3a,
};

static const struct {
	uint8_t off, width;
} cc_fields[] = {
    {CC_DFSELECT, 4}, {CC_DF, 4},	{CC_GFSELECT, 4}, {CC_GF, 4},	    {CC_MSIX, 2},
    {CC_NUMQ, 2},     {CC_STATUS, 1},	{CC_GEN, 1},	  {CC_Q_SELECT, 2}, {CC_Q_SIZE, 2},
    {CC_Q_MSIX, 2},   {CC_Q_ENABLE, 2}, {CC_Q_NOFF, 2},	  {CC_Q_DESC, 8},   {CC_Q_DRIVER, 8},
    {CC_Q_DEVICE, 8}, {CC_Q_NDATA, 2},	{CC_Q_RESET, 2},
};

static const struct {
	uint8_t off, width;
} legacy_fields[] = {
    {VIRTIO_LEG_HOST_FEATURES, 4}, {VIRTIO_LEG_GUEST_FEATURES, 4},
    {VIRTIO_LEG_QUEUE_PFN, 4},	   {VIRTIO_LEG_QUEUE_SIZE, 2},
    {VIRTIO_LEG_QUEUE_SEL, 2},	   {VIRTIO_LEG_QUEUE_NOTIFY, 2},
    {VIRTIO_LEG_STATUS, 1},	   {VIRTIO_LEG_ISR, 1},
    {VIRTIO_LEG_CONFIG_VECTOR, 2}, {VIRTIO_LEG_QUEUE_VECTOR, 2},
};

static struct virtq *selected(struct virtio_device *vdev, uint16_t sel)
{
	return sel < vdev->info.num_queues ? &vdev->vqs[sel] : NULL;
}

/* --- modern common configuration ---------------------------------------- */

/* The registers as the guest would read them now (ISR excluded). */
static void common_image(struct virtio_device *vdev, uint8_t *img)
{
	memset(img, 0, VIRTIO_COMMON_SIZE);
	pthread_mutex_lock(&vdev->lock);
	uint16_t sel = vdev->queue_sel;
	put_le32(img + CC_DFSELECT, vdev->dfselect);
	put_le32(img + CC_DF,
		 vdev->dfselect < 2 ? (uint32_t)(vdev->host_features >> (32 * vdev->dfselect)) : 0);
	put_le32(img + CC_GFSELECT, vdev->gfselect);
	uint64_t gf = atomic_load(&vdev->guest_features);
	put_le32(img + CC_GF, vdev->gfselect < 2 ? (uint32_t)(gf >> (32 * vdev->gfselect)) : 0);
	put_le16(img + CC_MSIX, vdev->config_vector);
	put_le16(img + CC_NUMQ, (uint16_t)vdev->info.num_queues);
	img[CC_STATUS] = vdev->status;
	img[CC_GEN] = vdev->config_gen;
	put_le16(img + CC_Q_SELECT, sel);
	pthread_mutex_unlock(&vdev->lock);
	struct virtq *vq = selected(vdev, sel);
	if (!vq)
		return;
	pthread_mutex_lock(&vq->lock);
	put_le16(img + CC_Q_SIZE, vq->size);
	put_le16(img + CC_Q_MSIX, vq->vector);
	put_le16(img + CC_Q_ENABLE, vq->enabled);
	put_le16(img + CC_Q_NOFF, (uint16_t)vq->index);
	put_le(img + CC_Q_DESC, vq->desc_gpa, 8);
	put_le(img + CC_Q_DRIVER, vq->avail_gpa, 8);
	put_le(img + CC_Q_DEVICE, vq->used_gpa, 8);
	pthread_mutex_unlock(&vq->lock);
}

static void common_set_queue(struct virtio_device *vdev, unsigned field, uint64_t v)
{
	pthread_mutex_lock(&vdev->lock);
	struct virtq *vq = selected(vdev, vdev->queue_sel);
	pthread_mutex_unlock(&vdev->lock);
	if (!vq)
		return;
	bool enable = false;
	pthread_mutex_lock(&vq->lock);
	/* The driver sets a queue up while it is disabled (4.1.4.3.2). */
	if (field == CC_Q_MSIX) {
		vq->vector = virtio_check_vector(vdev, (uint16_t)v);
	} else if (!vq->enabled) {
		switch (field) {
		case CC_Q_SIZE:
			/* A split ring's size is a power of two up to the
			 * maximum; anything else keeps the old size. */
			if (v && v <= vq->max_size && !(v & (v - 1)))
				vq->size = (uint16_t)v;
			break;
		case CC_Q_DESC:
			vq->desc_gpa = v;
			break;
		case CC_Q_DRIVER:
			vq->avail_gpa = v;
			break;
		case CC_Q_DEVICE:
			vq->used_gpa = v;
			break;
		case CC_Q_ENABLE:
			enable = v == 1;
			break;
		}
	}
	pthread_mutex_unlock(&vq->lock);
	if (enable && !virtq_enable(vq))
		virtio_set_needs_reset(vdev, "queue rings misaligned or outside guest RAM");
}

static void common_write_field(struct virtio_device *vdev, unsigned field, uint64_t v)
{
	switch (field) {
	case CC_STATUS:
		virtio_write_status(vdev, (uint8_t)v, true);
		return;
	case CC_Q_SIZE:
	case CC_Q_MSIX:
	case CC_Q_ENABLE:
	case CC_Q_DESC:
	case CC_Q_DRIVER:
	case CC_Q_DEVICE:
		common_set_queue(vdev, field, v);
		return;
	}
	pthread_mutex_lock(&vdev->lock);
	switch (field) {
	case CC_DFSELECT:
		vdev->dfselect = (uint32_t)v;
		break;
	case CC_GFSELECT:
		vdev->gfselect = (uint32_t)v;
		break;
	case CC_GF:
		/* Fixed once FEATURES_OK is set (3.1.1). */
		if (vdev->gfselect < 2 && !(vdev->status & VIRTIO_STATUS_FEATURES_OK)) {
			unsigned sh = 32 * vdev->gfselect;
			uint64_t gf = atomic_load(&vdev->guest_features);
			gf = (gf & ~(0xffffffffull << sh)) | (v & 0xffffffffull) << sh;
			atomic_store(&vdev->guest_features, gf);
		}
		break;
	case CC_MSIX:
		vdev->config_vector = virtio_check_vector(vdev, (uint16_t)v);
		break;
	case CC_Q_SELECT:
		vdev->queue_sel = (uint16_t)v;
		break;
	}
	pthread_mutex_unlock(&vdev->lock);
}

static uint64_t common_read(struct virtio_device *vdev, uint64_t off, unsigned size)
{
	uint8_t img[VIRTIO_COMMON_SIZE + 8] = {0};
	if (off >= VIRTIO_COMMON_SIZE)
		return 0;
	common_image(vdev, img);
	return get_le(img + off, size);
}

static void common_write(struct virtio_device *vdev, uint64_t off, uint64_t val, unsigned size)
{
	uint8_t img[VIRTIO_COMMON_SIZE + 8] = {0};
	if (off >= VIRTIO_COMMON_SIZE)
		return;
	common_image(vdev, img);
	put_le(img + off, val, size);
	for (size_t i = 0; i < sizeof(cc_fields) / sizeof(cc_fields[0]); i++) {
		unsigned f = cc_fields[i].off, w = cc_fields[i].width;
		if (f + w <= off || f >= off + size)
			continue;
		common_write_field(vdev, f, get_le(img + f, w));
	}
}

/* --- the modern BAR ------------------------------------------------------- */

static uint64_t modern_read(void *opaque, uint64_t off, unsigned size)
{
	struct virtio_device *vdev = opaque;
	if (off < VIRTIO_COMMON_OFF + VIRTIO_REGION_SIZE)
		return common_read(vdev, off - VIRTIO_COMMON_OFF, size);
	if (off < VIRTIO_ISR_OFF + VIRTIO_REGION_SIZE)
		return off == VIRTIO_ISR_OFF ? virtio_read_isr(vdev) : 0;
	if (off < VIRTIO_DEVICE_OFF + VIRTIO_REGION_SIZE)
		return virtio_config_guest_read(vdev, off - VIRTIO_DEVICE_OFF, size);
	return 0; /* notify: write-only */
}

static void modern_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct virtio_device *vdev = opaque;
	if (off < VIRTIO_COMMON_OFF + VIRTIO_REGION_SIZE)
		common_write(vdev, off - VIRTIO_COMMON_OFF, val, size);
	else if (off >= VIRTIO_DEVICE_OFF && off < VIRTIO_DEVICE_OFF + VIRTIO_REGION_SIZE)
		virtio_config_guest_write(vdev, off - VIRTIO_DEVICE_OFF, val, size);
	else if (off >= VIRTIO_NOTIFY_OFF && (off - VIRTIO_NOTIFY_OFF) % VIRTIO_NOTIFY_MULT == 0)
		/* Reached us: no ioeventfd took it. */
		virtio_kick(vdev, (off - VIRTIO_NOTIFY_OFF) / VIRTIO_NOTIFY_MULT);
}

static const struct bus_ops modern_ops = {.read = modern_read, .write = modern_write};

/* --- the legacy I/O BAR (4.1.4.8) ----------------------------------------- */

static unsigned legacy_header(struct virtio_device *vdev)
{
	return vdev->nvec && msix_enabled(&vdev->msix) ? VIRTIO_LEG_HEADER + 4 : VIRTIO_LEG_HEADER;
}

static void legacy_image(struct virtio_device *vdev, uint8_t *img)
{
	memset(img, 0, VIRTIO_LEG_HEADER + 4);
	pthread_mutex_lock(&vdev->lock);
	uint16_t sel = vdev->queue_sel;
	put_le32(img + VIRTIO_LEG_HOST_FEATURES, (uint32_t)vdev->host_features);
	put_le32(img + VIRTIO_LEG_GUEST_FEATURES, (uint32_t)atomic_load(&vdev->guest_features));
	put_le16(img + VIRTIO_LEG_QUEUE_SEL, sel);
	img[VIRTIO_LEG_STATUS] = vdev->status;
	put_le16(img + VIRTIO_LEG_CONFIG_VECTOR, vdev->config_vector);
	pthread_mutex_unlock(&vdev->lock);
	struct virtq *vq = selected(vdev, sel);
	if (!vq) {
		put_le16(img + VIRTIO_LEG_QUEUE_VECTOR, VIRTIO_NO_VECTOR);
		return;
	}
	pthread_mutex_lock(&vq->lock);
	put_le32(img + VIRTIO_LEG_QUEUE_PFN, vq->enabled ? (uint32_t)(vq->desc_gpa >> 12) : 0);
	put_le16(img + VIRTIO_LEG_QUEUE_SIZE, vq->max_size);
	put_le16(img + VIRTIO_LEG_QUEUE_VECTOR, vq->vector);
	pthread_mutex_unlock(&vq->lock);
}

/* A legacy driver gives one page number: the rings follow each other,
 * the used ring at the next 4 KiB boundary (2.7.2, legacy layout). */
static void legacy_set_pfn(struct virtio_device *vdev, struct virtq *vq, uint32_t pfn)
{
	if (pfn == 0) {
		virtq_reset(vq);
		return;
	}
	pthread_mutex_lock(&vq->lock);
	bool was = vq->enabled;
	if (!was) {
		uint64_t n = vq->max_size;
		vq->size = vq->max_size;
		vq->desc_gpa = (uint64_t)pfn << 12;
		vq->avail_gpa = vq->desc_gpa + 16 * n;
		vq->used_gpa = (vq->avail_gpa + 6 + 2 * n + 4095) & ~4095ull;
	}
	pthread_mutex_unlock(&vq->lock);
	if (!was && !virtq_enable(vq))
		virtio_set_needs_reset(vdev, "legacy queue page outside guest RAM");
}

static void legacy_write_field(struct virtio_device *vdev, unsigned field, uint64_t v)
{
	pthread_mutex_lock(&vdev->lock);
	struct virtq *vq = selected(vdev, vdev->queue_sel);
	switch (field) {
	case VIRTIO_LEG_GUEST_FEATURES:
		if (!vdev->features_set)
			atomic_store(&vdev->guest_features, v & 0xffffffffull);
		break;
	case VIRTIO_LEG_QUEUE_SEL:
		vdev->queue_sel = (uint16_t)v;
		break;
	case VIRTIO_LEG_CONFIG_VECTOR:
		vdev->config_vector = virtio_check_vector(vdev, (uint16_t)v);
		break;
	}
	pthread_mutex_unlock(&vdev->lock);
	switch (field) {
	case VIRTIO_LEG_QUEUE_PFN:
		if (vq)
			legacy_set_pfn(vdev, vq, (uint32_t)v);
		break;
	case VIRTIO_LEG_QUEUE_NOTIFY:
		virtio_kick(vdev, v);
		break;
	case VIRTIO_LEG_STATUS:
		virtio_write_status(vdev, (uint8_t)v, false);
		break;
	case VIRTIO_LEG_QUEUE_VECTOR:
		if (vq) {
			pthread_mutex_lock(&vq->lock);
			vq->vector = virtio_check_vector(vdev, (uint16_t)v);
			pthread_mutex_unlock(&vq->lock);
		}
		break;
	}
}

static uint64_t legacy_read(void *opaque, uint64_t off, unsigned size)
{
	struct virtio_device *vdev = opaque;
	unsigned hdr = legacy_header(vdev);
	if (off >= hdr)
		return virtio_config_guest_read(vdev, off - hdr, size);
	uint8_t img[VIRTIO_LEG_HEADER + 4 + 8] = {0};
	legacy_image(vdev, img);
	if (off <= VIRTIO_LEG_ISR && off + size > VIRTIO_LEG_ISR)
		img[VIRTIO_LEG_ISR] = virtio_read_isr(vdev);
	uint64_t v = get_le(img + off, size);
	if (off + size > hdr) /* a read straddling into the device config */
		v &= (1ull << (8 * (hdr - off))) - 1;
	return v;
}

static void legacy_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct virtio_device *vdev = opaque;
	unsigned hdr = legacy_header(vdev);
	if (off >= hdr) {
		virtio_config_guest_write(vdev, off - hdr, val, size);
		return;
	}
	uint8_t img[VIRTIO_LEG_HEADER + 4 + 8] = {0};
	legacy_image(vdev, img);
	put_le(img + off, val, size);
	for (size_t i = 0; i < sizeof(legacy_fields) / sizeof(legacy_fields[0]); i++) {
		unsigned f = legacy_fields[i].off, w = legacy_fields[i].width;
		if (f + w <= off || f >= off + size || f + w > hdr)
			continue;
		legacy_write_field(vdev, f, get_le(img + f, w));
	}
}

static const struct bus_ops legacy_ops = {.read = legacy_read, .write = legacy_write};

/* --- PCI configuration hooks ---------------------------------------------- */

static unsigned find_cfg_cap(struct pci_device *d)
{
	for (unsigned p = d->cfg[PCI_CAPABILITY_LIST], n = 0; p && n < 48; p = d->cfg[p + 1], n++)
		if (d->cfg[p] == PCI_CAP_ID_VENDOR && d->cfg[p + 3] == CAP_PCI_CFG)
			return p;
	return 0;
}

/* The VIRTIO_PCI_CAP_PCI_CFG window (4.1.4.9): an access of `length`
 * bytes at `offset` in BAR `bar`, through configuration space. false if
 * the window is not set up to something valid. */
static bool cfg_window(struct virtio_device *vdev, unsigned cap, bool write, uint32_t *data)
{
	struct pci_device *d = &vdev->pci;
	uint8_t bar = d->cfg[cap + 4];
	uint32_t off = (uint32_t)pci_cfg_get(d, cap + 8, 4);
	uint32_t len = (uint32_t)pci_cfg_get(d, cap + 12, 4);
	if ((len != 1 && len != 2 && len != 4) || off % len)
		return false;
	const struct bus_ops *ops = NULL;
	void *opaque = vdev;
	if (bar == VIRTIO_BAR_MODERN && off + len <= VIRTIO_MODERN_SIZE)
		ops = &modern_ops;
	else if (bar == VIRTIO_BAR_LEGACY && vdev->legacy && off + len <= d->bar[bar].size)
		ops = &legacy_ops;
	if (ops && write)
		ops->write(opaque, off, *data, len);
	else if (ops)
		*data = (uint32_t)ops->read(opaque, off, len);
	else if (bar == VIRTIO_BAR_MSIX && vdev->nvec && off + len <= vdev->msix.bar_size)
		write ? msix_bar_write(&vdev->msix, off, *data, len)
		      : (void)(*data = (uint32_t)msix_bar_read(&vdev->msix, off, len));
	else
		return false;
	return true;
}

static void virtio_pci_config_write(struct pci_device *d, unsigned off, uint32_t val, unsigned size)
{
	struct virtio_device *vdev = d->opaque;
	(void)val;
	if (vdev->nvec) {
		msix_config_write(&vdev->msix, off, size);
		/* With MSI-X on, the INTx pin is not used: let go of it. */
		if (msix_enabled(&vdev->msix)) {
			pthread_mutex_lock(&vdev->intr_lock);
			pci_set_irq(&vdev->pci, false);
			pthread_mutex_unlock(&vdev->intr_lock);
		}
	}
	unsigned cap = find_cfg_cap(d);
	if (cap && off < cap + 20 && off + size > cap + 16) {
		uint32_t data = (uint32_t)pci_cfg_get(d, cap + 16, 4);
		cfg_window(vdev, cap, true, &data);
	}
}

static uint32_t virtio_pci_config_read(struct pci_device *d, unsigned off, unsigned size,
				       uint32_t val)
{
	struct virtio_device *vdev = d->opaque;
	unsigned cap = find_cfg_cap(d);
	if (!cap || off >= cap + 20 || off + size <= cap + 16)
		return val;
	uint32_t data = 0;
	if (!cfg_window(vdev, cap, false, &data))
		return val;
	uint8_t bytes[4];
	put_le32(bytes, data);
	for (unsigned i = 0; i < size; i++)
		if (off + i >= cap + 16 && off + i < cap + 20) {
			val &= ~(0xffu << (8 * i));
			val |= (uint32_t)bytes[off + i - cap - 16] << (8 * i);
		}
	return val;
}

/* The notify registers' ioeventfds follow the BARs. */
static void virtio_pci_bar_mapped(struct pci_device *d, int bar, uint64_t addr, bool mapped)
{
	struct virtio_device *vdev = d->opaque;
	if (bar != VIRTIO_BAR_MODERN && !(bar == VIRTIO_BAR_LEGACY && vdev->legacy))
		return;
	bool pio = bar == VIRTIO_BAR_LEGACY;
	for (unsigned q = 0; q < vdev->info.num_queues; q++) {
		struct ioeventfd ev = {
		    .addr = pio ? addr + VIRTIO_LEG_QUEUE_NOTIFY
				: addr + VIRTIO_NOTIFY_OFF + (uint64_t)q * VIRTIO_NOTIFY_MULT,
		    .data = q,
		    .len = 2,
		    .pio = pio,
		    .datamatch = pio,
		    .fd = vdev->vqs[q].notify_fd,
		};
		if (mapped)
			machine_ioeventfd_add(vdev->m, &ev);
		else
			machine_ioeventfd_del(vdev->m, &ev);
	}
}

static const struct pci_device_ops virtio_pci_ops = {
    .config_write = virtio_pci_config_write,
    .config_read = virtio_pci_config_read,
    .bar_mapped = virtio_pci_bar_mapped,
};

/* --- creation --------------------------------------------------------------- */

static void notified(void *opaque, uint32_t events)
{
	struct virtq *vq = opaque;
	struct virtio_device *vdev = vq->vdev;
	uint64_t n;
	(void)events;
	if (read(vq->notify_fd, &n, sizeof(n)) != sizeof(n))
		return;
	/* Paused: dropped; virtio_pause kicks every queue when it goes on. */
	if (virtq_ready(vq) && !atomic_load(&vdev->paused))
		vdev->ops->queue_notify(vdev, vq->index);
}

static int add_vendor_cap(struct pci_device *d, uint8_t type, unsigned bar, uint32_t off,
			  uint32_t len, unsigned cap_len)
{
	int cap = pci_add_capability(d, PCI_CAP_ID_VENDOR, cap_len);
	if (cap < 0)
		return cap;
	unsigned c = (unsigned)cap;
	d->cfg[c + 2] = (uint8_t)cap_len;
	d->cfg[c + 3] = type;
	d->cfg[c + 4] = (uint8_t)bar;
	pci_cfg_set(d, c + 8, off, 4);
	pci_cfg_set(d, c + 12, len, 4);
	return cap;
}

/* PCI device ids of transitional devices (4.1.2.1). */
static uint16_t legacy_pci_id(uint16_t id)
{
	switch (id) {
	case VIRTIO_ID_NET:
		return 0x1000;
	case VIRTIO_ID_BLOCK:
		return 0x1001;
	case VIRTIO_ID_CONSOLE:
		return 0x1003;
	case VIRTIO_ID_RNG:
		return 0x1005;
	case 5: /* balloon */
		return 0x1002;
	case 8: /* scsi */
		return 0x1004;
	case 9: /* 9p */
		return 0x1009;
	}
	return 0;
}

/* rom=PATH (a model that lists the key, e.g. virtio-net for network
 * boot): the option ROM in the function's expansion ROM BAR. A file that
 * cannot be used is -EINVAL, with one line that names it. */
static int load_rom(struct virtio_device *vdev, const char *path)
{
	struct stat st;
	uint8_t *buf = NULL;
	int r, fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		log_error("%s: cannot open the option ROM %s: %s (install ipxe-qemu, or give rom= "
			  "another file)",
			  vdev->id, path, strerror(errno));
		return -EINVAL;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 3 || st.st_size > ROM_MAX) {
		r = -EINVAL;
		log_error("%s: %s is not an option ROM (a file of 3 bytes to 1 MiB); give rom= "
			  "another file",
			  vdev->id, path);
		goto out;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	if (file_pread_all(fd, buf, (size_t)st.st_size, 0) < 0 || buf[0] != 0x55 ||
	    buf[1] != 0xaa) {
		r = -EINVAL;
		log_error("%s: %s is not an option ROM (no 55 AA signature); give rom= another "
			  "file",
			  vdev->id, path);
		goto out;
	}
	r = pci_rom_init(&vdev->pci, buf, (size_t)st.st_size);
	if (r < 0)
		log_error("%s: cannot set up the ROM BAR for %s: %s", vdev->id, path, strerror(-r));
out:
	free(buf);
	close(fd);
	return r;
}

static int setup_pci(struct virtio_device *vdev, int slot, const char *rom)
{
	struct pci_device *d = &vdev->pci;
	const struct virtio_device_info *info = &vdev->info;
	uint16_t pci_id = vdev->legacy ? legacy_pci_id(info->device_id) : 0x1040 + info->device_id;
	pci_device_init(d, vdev->id, VIRTIO_PCI_VENDOR, pci_id, info->class_code,
			vdev->legacy ? 0 : 1, VIRTIO_PCI_VENDOR, info->device_id, 1);
	d->ops = &virtio_pci_ops;
	d->opaque = vdev;
	int r;
	if (vdev->legacy) {
		uint64_t size = 32;
		while (size < VIRTIO_LEG_HEADER + 4 + info->config_size)
			size <<= 1;
		struct pci_bar_desc io = {
		    .size = size, .type = PCI_BAR_IO, .ops = &legacy_ops, .opaque = vdev};
		if ((r = pci_bar_init(d, VIRTIO_BAR_LEGACY, &io)) < 0)
			return r;
	}
	struct pci_bar_desc mem = {.size = VIRTIO_MODERN_SIZE,
				   .type = PCI_BAR_MEM64 | PCI_BAR_PREFETCH,
				   .ops = &modern_ops,
				   .opaque = vdev};
	if ((r = pci_bar_init(d, VIRTIO_BAR_MODERN, &mem)) < 0)
		return r;
	if (vdev->nvec && (r = msix_init(&vdev->msix, d, vdev->m, vdev->nvec, VIRTIO_BAR_MSIX)) < 0)
		return r;
	int notify;
	if ((r = add_vendor_cap(d, CAP_COMMON, VIRTIO_BAR_MODERN, VIRTIO_COMMON_OFF,
				VIRTIO_REGION_SIZE, 16)) < 0 ||
	    (r = add_vendor_cap(d, CAP_ISR, VIRTIO_BAR_MODERN, VIRTIO_ISR_OFF, VIRTIO_REGION_SIZE,
				16)) < 0 ||
	    (r = add_vendor_cap(d, CAP_DEVICE, VIRTIO_BAR_MODERN, VIRTIO_DEVICE_OFF,
				VIRTIO_REGION_SIZE, 16)) < 0 ||
	    (r = notify = add_vendor_cap(d, CAP_NOTIFY, VIRTIO_BAR_MODERN, VIRTIO_NOTIFY_OFF,
					 VIRTIO_REGION_SIZE, 20)) < 0)
		return r;
	pci_cfg_set(d, (unsigned)notify + 16, VIRTIO_NOTIFY_MULT, 4);
	int cfg = add_vendor_cap(d, CAP_PCI_CFG, 0, 0, 0, 20);
	if (cfg < 0)
		return cfg;
	/* The window's bar, offset, length and data are the driver's. */
	pci_set_wmask(d, (unsigned)cfg + 4, 1, 0xff);
	pci_set_wmask(d, (unsigned)cfg + 8, 12, 0xff);
	if (rom && *rom && (r = load_rom(vdev, rom)) < 0)
		return r;
	return pci_register(vdev->m->pci, d, slot, 0);
}

static int parse_args(struct virtio_device *vdev, const struct devargs *args, int *slot)
{
	uint64_t v;
	int r;
	if ((r = devargs_u64(args, "slot", (uint64_t)-1, (uint64_t)-1, &v)) < 0 ||
	    (v != (uint64_t)-1 && v >= PCI_SLOTS)) {
		log_error("%s: slot must be 0-%d", vdev->id, PCI_SLOTS - 1);
		return -EINVAL;
	}
	*slot = v == (uint64_t)-1 ? -1 : (int)v;
	const char *legacy = devargs_get(args, "legacy");
	if (!legacy || !strcmp(legacy, "on"))
		vdev->legacy = legacy_pci_id(vdev->info.device_id) != 0;
	else if (!strcmp(legacy, "off"))
		vdev->legacy = false;
	else {
		log_error("%s: legacy must be on or off (got '%s')", vdev->id, legacy);
		return -EINVAL;
	}
	if (devargs_u64(args, "vectors", vdev->info.num_queues + 1, 64 + 1, &v) < 0) {
		log_error("%s: vectors must be 0-%d", vdev->id, 64 + 1);
		return -EINVAL;
	}
	vdev->nvec = (unsigned)v;
	return 0;
}

int virtio_pci_create(struct machine *m, const char *id, const struct devargs *args,
		      const struct virtio_device_info *info, const struct virtio_device_ops *ops,
		      void *opaque, struct virtio_device **out)
{
	if (!m->pci) {
		log_error("%s: %s needs a PCI bus (add the i440fx host bridge first)", id,
			  info->name);
		return -ENODEV;
	}
	if (!info->num_queues || info->num_queues > VIRTIO_QUEUES_MAX || !info->queue_size ||
	    info->queue_size > VIRTIO_QUEUE_SIZE_MAX ||
	    (info->queue_size & (info->queue_size - 1)) || info->config_size > VIRTIO_CONFIG_MAX ||
	    !ops->queue_notify)
		return -EINVAL;
	struct virtio_device *vdev = calloc(1, sizeof(*vdev));
	if (!vdev)
		return -ENOMEM;
	snprintf(vdev->id, sizeof(vdev->id), "%s", id);
	vdev->m = m;
	vdev->info = *info;
	vdev->ops = ops;
	vdev->opaque = opaque;
	vdev->host_features = info->features | 1ull << VIRTIO_F_VERSION_1 |
			      1ull << VIRTIO_F_INDIRECT_DESC | 1ull << VIRTIO_F_EVENT_IDX;
	vdev->config_vector = VIRTIO_NO_VECTOR;
	pthread_mutex_init(&vdev->lock, NULL);
	pthread_mutex_init(&vdev->intr_lock, NULL);
	if (info->config)
		memcpy(vdev->config, info->config, info->config_size);
	int slot, r;
	if ((r = parse_args(vdev, args, &slot)) < 0) {
		virtio_pci_destroy(vdev);
		return r;
	}
	vdev->vqs = calloc(info->num_queues, sizeof(*vdev->vqs));
	if (!vdev->vqs) {
		r = -ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < info->num_queues; i++) {
		if ((r = virtq_init(&vdev->vqs[i], vdev, i, info->queue_size)) < 0)
			goto fail;
		vdev->vqs[i].notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vdev->vqs[i].notify_fd < 0) {
			r = -errno;
			goto fail;
		}
		if ((r = evloop_add_fd(m->loop, vdev->vqs[i].notify_fd, EPOLLIN, notified,
				       &vdev->vqs[i])) < 0) {
			close(vdev->vqs[i].notify_fd);
			vdev->vqs[i].notify_fd = -1;
			goto fail;
		}
	}
	if ((r = setup_pci(vdev, slot, devargs_get(args, "rom"))) < 0) {
		if (r == -EINVAL)
			goto fail; /* the ROM file: said already */
		log_error("%s: cannot put %s on the PCI bus: %s", id, info->name, strerror(-r));
		goto fail;
	}
	*out = vdev;
	return 0;
fail:
	if (r != -EINVAL)
		log_error("%s: cannot create %s: %s", id, info->name, strerror(-r));
	virtio_pci_destroy(vdev);
	return r;
}

void virtio_pci_reset(struct virtio_device *vdev)
{
	pci_device_reset(&vdev->pci);
	if (vdev->nvec)
		msix_reset(&vdev->msix);
	virtio_device_reset(vdev);
}

void virtio_pci_destroy(struct virtio_device *vdev)
{
	if (!vdev)
		return;
	if (vdev->pci.bus)
		pci_unregister(&vdev->pci);
	else if (vdev->pci.rom) /* loaded, but the function never got on the bus */
		munmap(vdev->pci.rom, vdev->pci.rom_size);
	for (unsigned i = 0; vdev->vqs && i < vdev->info.num_queues; i++) {
		struct virtq *vq = &vdev->vqs[i];
		if (!vq->scratch)
			continue; /* never initialized */
		if (vq->notify_fd >= 0) {
			evloop_del_fd(vdev->m->loop, vq->notify_fd);
			close(vq->notify_fd);
		}
		virtq_fini(vq);
	}
	if (vdev->nvec && vdev->msix.table)
		msix_destroy(&vdev->msix);
	free(vdev->vqs);
	pthread_mutex_destroy(&vdev->lock);
	pthread_mutex_destroy(&vdev->intr_lock);
	free(vdev);
}
