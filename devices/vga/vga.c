/* The standard VGA device model ("vga"): PCI function 1234:1111 with 16 MiB
 * of VRAM in BAR0 (mapped straight into the guest, dirty-logged), the
 * register block in BAR2 (VGA ports at 0x400, dispi registers at 0x500,
 * QEMU's extended registers at 0x600), the VGA BIOS in the ROM BAR, the
 * legacy ports and the 0xA0000 window. */
#include "devices/device.h"
#include "devices/vga/vga.h"
#include "devices/vga/vga_int.h"
#include "hypervisor/bytes.h"
#include "hypervisor/fileio.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define VGA_PORT_BASE	0x3b0
#define VGA_PORT_LEN	0x30
#define DISPI_PORT_BASE 0x1ce
#define DISPI_PORT_LEN	4 /* index, data, data again at 0x1D0; 0x1D1 unused */
#define WINDOW_BASE	0xa0000
#define WINDOW_LEN	0x20000
#define MMIO_BAR_SIZE	0x1000
#define MMIO_VGA	0x400 /* ports 0x3C0-0x3DF */
#define MMIO_DISPI	0x500 /* dispi register i at 0x500 + 2 * i */
#define MMIO_QEXT	0x600 /* QEMU extended registers */
#define QEXT_SIZE	8
#define QEXT_BE		0xbebebebeu
#define QEXT_LE		0x1e1e1e1eu
#define ROM_MAX		(1u << 20)

/* --- legacy ports, window and the MMIO BAR --------------------------------- */

static uint64_t port_read(void *opaque, uint64_t off, unsigned size)
{
	struct vga *v = opaque;
	uint64_t val = 0;
	pthread_mutex_lock(&v->lock);
	for (unsigned i = 0; i < size; i++)
		val |= (uint64_t)vga_port_read(v, (uint16_t)(VGA_PORT_BASE + off + i)) << (8 * i);
	pthread_mutex_unlock(&v->lock);
	return val;
}

static void port_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct vga *v = opaque;
	pthread_mutex_lock(&v->lock);
	/* A word write to an index port writes the index, then the data. */
	for (unsigned i = 0; i < size; i++)
		vga_port_write(v, (uint16_t)(VGA_PORT_BASE + off + i), (uint8_t)(val >> (8 * i)));
	display_invalidate(v->surface);
	pthread_mutex_unlock(&v->lock);
}

static uint64_t dispi_read(void *opaque, uint64_t off, unsigned size)
{
	struct vga *v = opaque;
	uint64_t val;
	pthread_mutex_lock(&v->lock);
	if (off == 0)
		val =
		    v->vbe_index | (size == 4 ? (uint64_t)vga_vbe_read(v, v->vbe_index) << 16 : 0);
	else if (off < 3)
		val = vga_vbe_read(v, v->vbe_index);
	else
		val = ~0ull;
	pthread_mutex_unlock(&v->lock);
	return val;
}

static void dispi_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct vga *v = opaque;
	pthread_mutex_lock(&v->lock);
	if (off == 0) {
		v->vbe_index = (uint16_t)val;
		if (size == 4)
			vga_vbe_write(v, v->vbe_index, (uint16_t)(val >> 16));
	} else if (off < 3) {
		vga_vbe_write(v, v->vbe_index, (uint16_t)val);
	}
	display_invalidate(v->surface);
	pthread_mutex_unlock(&v->lock);
}

static uint64_t window_read(void *opaque, uint64_t off, unsigned size)
{
	struct vga *v = opaque;
	uint64_t val = 0;
	pthread_mutex_lock(&v->lock);
	for (unsigned i = 0; i < size; i++)
		val |= (uint64_t)vga_mem_read(v, (uint32_t)(off + i)) << (8 * i);
	pthread_mutex_unlock(&v->lock);
	return val;
}

static void window_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct vga *v = opaque;
	pthread_mutex_lock(&v->lock);
	for (unsigned i = 0; i < size; i++)
		vga_mem_write(v, (uint32_t)(off + i), (uint8_t)(val >> (8 * i)));
	display_invalidate(v->surface);
	pthread_mutex_unlock(&v->lock);
}

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
	struct vga *v = opaque;
	uint8_t bytes[8] = {0};
	pthread_mutex_lock(&v->lock);
	for (unsigned i = 0; i < size; i++) {
		uint64_t o = off + i;
		if (o >= MMIO_VGA && o < MMIO_VGA + 0x20) {
			bytes[i] = vga_port_read(v, (uint16_t)(0x3c0 + o - MMIO_VGA));
		} else if (o >= MMIO_DISPI && o < MMIO_DISPI + 2 * VBE_REGS) {
			uint16_t r = vga_vbe_read(v, (unsigned)(o - MMIO_DISPI) / 2);
			bytes[i] = (uint8_t)(r >> (8 * ((o - MMIO_DISPI) & 1)));
		} else if (o >= MMIO_QEXT && o < MMIO_QEXT + QEXT_SIZE) {
			uint32_t r =
			    o < MMIO_QEXT + 4 ? QEXT_SIZE : (v->big_endian_fb ? QEXT_BE : QEXT_LE);
			bytes[i] = (uint8_t)(r >> (8 * ((o - MMIO_QEXT) & 3)));
		}
	}
	pthread_mutex_unlock(&v->lock);
	return get_le(bytes, size);
}

static void mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	struct vga *v = opaque;
	pthread_mutex_lock(&v->lock);
	if (off >= MMIO_VGA && off + size <= MMIO_VGA + 0x20) {
		for (unsigned i = 0; i < size; i++)
			vga_port_write(v, (uint16_t)(0x3c0 + off - MMIO_VGA + i),
				       (uint8_t)(val >> (8 * i)));
	} else if (off >= MMIO_DISPI && off < MMIO_DISPI + 2 * VBE_REGS && !(off & 1) &&
		   size == 2) {
		vga_vbe_write(v, (unsigned)(off - MMIO_DISPI) / 2, (uint16_t)val);
	} else if (off == MMIO_QEXT + 4 && size == 4) {
		/* Framebuffer byte order; anything else leaves it alone. */
		if ((uint32_t)val == QEXT_BE || (uint32_t)val == QEXT_LE) {
			v->big_endian_fb = (uint32_t)val == QEXT_BE;
			v->changed = true;
		}
	}
	display_invalidate(v->surface);
	pthread_mutex_unlock(&v->lock);
}

static const struct bus_ops port_ops = {port_read, port_write};
static const struct bus_ops dispi_ops = {dispi_read, dispi_write};
static const struct bus_ops window_ops = {window_read, window_write};
static const struct bus_ops mmio_ops = {mmio_read, mmio_write};

/* BAR0 moved or went away: its dirty log starts over (called with the PCI
 * bus lock held; the lock order is bus, then device). */
static void bar_mapped(struct pci_device *d, int bar, uint64_t addr, bool mapped)
{
	struct vga *v = d->opaque;
	if (bar != 0)
		return;
	pthread_mutex_lock(&v->lock);
	v->vram_slot = mapped ? d->bar_slot[0] : -1;
	v->all_dirty = true;
	pthread_mutex_unlock(&v->lock);
}

static const struct pci_device_ops vga_pci_ops = {.bar_mapped = bar_mapped};

/* --- the model --------------------------------------------------------- */

struct display_surface *vga_surface(void *vga)
{
	return ((struct vga *)vga)->surface;
}

static int load_rom(struct vga *v, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		log_error("vga: cannot open the VGA BIOS %s: %s (install Debian's seabios package, "
			  "or give rom=PATH or rom=none)",
			  path, strerror(e));
		return -e;
	}
	struct stat st;
	int r = 0;
	uint8_t *buf = NULL;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		log_error("vga: cannot read the VGA BIOS %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < 3 || st.st_size > ROM_MAX) {
		r = -EINVAL;
		log_error("vga: %s is not a VGA BIOS image (a file of 3 bytes to 1 MiB); give "
			  "rom=PATH to another one",
			  path);
		goto out;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = file_pread_all(fd, buf, (size_t)st.st_size, 0)) < 0) {
		log_error("vga: cannot read the VGA BIOS %s: %s", path,
			  r == -ENODATA ? "short read" : strerror(-r));
		r = r == -ENODATA ? -EIO : r;
		goto out;
	}
	if (buf[0] != 0x55 || buf[1] != 0xaa) {
		r = -EINVAL;
		log_error("vga: %s is not an option ROM (no 55 AA signature); give rom=PATH to "
			  "vgabios-stdvga.bin",
			  path);
		goto out;
	}
	r = pci_rom_init(&v->pci, buf, (size_t)st.st_size);
	if (r < 0)
		log_error("vga: cannot set up the ROM BAR for %s: %s", path, strerror(-r));
out:
	free(buf);
	close(fd);
	return r;
}

static void vga_reset(void *state)
{
	struct vga *v = state;
	pci_device_reset(&v->pci);
	pthread_mutex_lock(&v->lock);
	vga_regs_reset(v);
	v->have_last = false;
	display_invalidate(v->surface);
	pthread_mutex_unlock(&v->lock);
}

static void vga_destroy(void *state)
{
	struct vga *v = state;
	display_set_update(v->surface, NULL, NULL);
	bus_unregister(v->m->mmio, WINDOW_BASE, v);
	bus_unregister(v->m->pio, VGA_PORT_BASE, v);
	bus_unregister(v->m->pio, DISPI_PORT_BASE, v);
	pci_unregister(&v->pci);
	display_put(v->surface);
	munmap(v->vram, VGA_VRAM_SIZE);
	pthread_mutex_destroy(&v->lock);
	free(v);
}

static int vga_create(struct machine *m, const char *id, const struct devargs *args, void **state)
{
	static const char *const keys[] = {"rom", "slot", NULL};
	if (devargs_check_keys(args, "vga", keys) < 0)
		return -EINVAL;
	uint64_t slot;
	if (devargs_u64(args, "slot", 2, PCI_SLOTS - 1, &slot) < 0) {
		log_error("vga: slot must be a PCI slot number from 0 to %d", PCI_SLOTS - 1);
		return -EINVAL;
	}
	if (!m->pci) {
		log_error("vga: needs a PCI bus (create the i440fx host bridge first)");
		return -ENODEV;
	}
	const char *rom = devargs_get(args, "rom");
	if (!rom || !*rom)
		rom = VGA_DEFAULT_BIOS;

	struct vga *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->m = m;
	v->vram_slot = -1;
	pthread_mutex_init(&v->lock, NULL);
	int r = -ENOMEM;
	v->vram = mmap(NULL, VGA_VRAM_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (v->vram == MAP_FAILED) {
		v->vram = NULL;
		log_error("vga: cannot allocate %u MiB of video memory", VGA_VRAM_SIZE >> 20);
		goto fail;
	}
	v->surface = display_new(640, 480);
	if (!v->surface)
		goto fail;

	pci_device_init(&v->pci, "vga", 0x1234, 0x1111, 0x030000, 2, 0x1af4, 0x1100, 0);
	v->pci.ops = &vga_pci_ops;
	v->pci.opaque = v;
	struct pci_bar_desc fb = {
	    .size = VGA_VRAM_SIZE,
	    .type = PCI_BAR_MEM32 | PCI_BAR_PREFETCH,
	    .ram = v->vram,
	    .ram_flags = MEM_DIRTY_LOG,
	};
	struct pci_bar_desc regs = {
	    .size = MMIO_BAR_SIZE, .type = PCI_BAR_MEM32, .ops = &mmio_ops, .opaque = v};
	if ((r = pci_bar_init(&v->pci, 0, &fb)) < 0 || (r = pci_bar_init(&v->pci, 2, &regs)) < 0)
		goto fail;
	if (strcmp(rom, "none") != 0 && (r = load_rom(v, rom)) < 0)
		goto fail;
	vga_regs_reset(v);

	if ((r = bus_register(m->pio, VGA_PORT_BASE, VGA_PORT_LEN, &port_ops, v, "vga")) < 0)
		goto fail_bus;
	if ((r = bus_register(m->pio, DISPI_PORT_BASE, DISPI_PORT_LEN, &dispi_ops, v, "vga")) < 0)
		goto fail_ports;
	/* The window is written far more than read (clearing the screen,
	 * drawing): let KVM queue its writes instead of exiting for each. */
	machine_coalesce(m, WINDOW_BASE, WINDOW_LEN, false);
	if ((r = bus_register(m->mmio, WINDOW_BASE, WINDOW_LEN, &window_ops, v, "vga")) < 0)
		goto fail_dispi;
	if ((r = pci_register(m->pci, &v->pci, (int)slot, 0)) < 0)
		goto fail_window;
	display_set_update(v->surface, vga_render, v);
	*state = v;
	return 0;

fail_window:
	bus_unregister(m->mmio, WINDOW_BASE, v);
fail_dispi:
	bus_unregister(m->pio, DISPI_PORT_BASE, v);
fail_ports:
	bus_unregister(m->pio, VGA_PORT_BASE, v);
fail_bus:
	if (r == -EEXIST)
		log_error("vga: the VGA ports or the 0xA0000 window are taken by another device");
fail:
	if (v->pci.rom)
		munmap(v->pci.rom, v->pci.rom_size);
	display_put(v->surface);
	if (v->vram)
		munmap(v->vram, VGA_VRAM_SIZE);
	pthread_mutex_destroy(&v->lock);
	free(v);
	return r;
}

static const struct device_model vga_model = {
    .name = "vga",
    .description = "standard VGA with Bochs VBE extensions (PCI 1234:1111, 16 MiB)",
    .create = vga_create,
    .reset = vga_reset,
    .destroy = vga_destroy,
    .state_version = 1,
    .save = vga_save,
    .load = vga_load,
};
DEVICE_MODEL(vga_model);
