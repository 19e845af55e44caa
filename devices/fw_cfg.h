/* QEMU's firmware configuration interface (fw_cfg): the item keys and the
 * functions the boot code uses to fill items and files before the VM runs. */
#ifndef OSIO_FW_CFG_H
#define OSIO_FW_CFG_H

#include <stddef.h>
#include <stdint.h>

/* Item keys (selectors), as in QEMU's docs/specs/fw_cfg.rst and
 * include/standard-headers/linux/qemu_fw_cfg.h. Numbers are little-endian
 * unless said otherwise. */
#define FW_CFG_SIGNATURE      0x00 /* "QEMU" (filled by the model) */
#define FW_CFG_ID	      0x01 /* u32: bit 0 traditional, bit 1 DMA (model) */
#define FW_CFG_UUID	      0x02 /* 16 bytes, the SMBIOS UUID (model: zeros) */
#define FW_CFG_RAM_SIZE	      0x03 /* u64, bytes of RAM (model) */
#define FW_CFG_NOGRAPHIC      0x04 /* u16, 1: no display (model: 0) */
#define FW_CFG_NB_CPUS	      0x05 /* u16, vCPUs at boot (model) */
#define FW_CFG_MACHINE_ID     0x06
#define FW_CFG_KERNEL_ADDR    0x07 /* u32 */
#define FW_CFG_KERNEL_SIZE    0x08 /* u32 */
#define FW_CFG_KERNEL_CMDLINE 0x09 /* u32: where the command line goes */
#define FW_CFG_INITRD_ADDR    0x0a /* u32 */
#define FW_CFG_INITRD_SIZE    0x0b /* u32 */
#define FW_CFG_BOOT_DEVICE    0x0c /* u16, a drive letter ('c', 'd', 'n') */
#define FW_CFG_NUMA	      0x0d /* u64 count, then per-node data */
#define FW_CFG_BOOT_MENU      0x0e /* u16, 1: show the boot menu (model: 0) */
#define FW_CFG_MAX_CPUS	      0x0f /* u16 (model: the vCPU count) */
#define FW_CFG_KERNEL_ENTRY   0x10 /* u32 */
#define FW_CFG_KERNEL_DATA    0x11 /* the protected-mode kernel */
#define FW_CFG_INITRD_DATA    0x12
#define FW_CFG_CMDLINE_ADDR   0x13   /* u32 */
#define FW_CFG_CMDLINE_SIZE   0x14   /* u32, including the NUL */
#define FW_CFG_CMDLINE_DATA   0x15   /* NUL-terminated */
#define FW_CFG_SETUP_ADDR     0x16   /* u32 */
#define FW_CFG_SETUP_SIZE     0x17   /* u32 */
#define FW_CFG_SETUP_DATA     0x18   /* the real-mode setup code of a bzImage */
#define FW_CFG_FILE_DIR	      0x19   /* the file directory (model), see below */
#define FW_CFG_FILE_FIRST     0x20   /* files get selectors from here on */
#define FW_CFG_WRITE_CHANNEL  0x4000 /* ignored in selectors (legacy) */
#define FW_CFG_ARCH_LOCAL     0x8000 /* architecture-specific keys */
#define FW_CFG_ENTRY_MASK     0x3fff
#define FW_CFG_INVALID	      0xffff

/* x86 arch-local keys. */
#define FW_CFG_ACPI_TABLES    (FW_CFG_ARCH_LOCAL + 0)
#define FW_CFG_SMBIOS_ENTRIES (FW_CFG_ARCH_LOCAL + 1)
#define FW_CFG_IRQ0_OVERRIDE  (FW_CFG_ARCH_LOCAL + 2)
#define FW_CFG_E820_TABLE     (FW_CFG_ARCH_LOCAL + 3)
#define FW_CFG_HPET	      (FW_CFG_ARCH_LOCAL + 4)

/* FW_CFG_FILE_DIR: a big-endian u32 count, then `count` of these, sorted by
 * name (strcmp), with selectors FW_CFG_FILE_FIRST, FW_CFG_FILE_FIRST + 1, ...
 * in that order. */
#define FW_CFG_MAX_FILE_PATH 56
struct fw_cfg_file {
	uint32_t size;	 /* big-endian */
	uint16_t select; /* big-endian */
	uint16_t reserved;
	char name[FW_CFG_MAX_FILE_PATH];
};

/* FW_CFG_ID bits. */
#define FW_CFG_VERSION	   0x01
#define FW_CFG_VERSION_DMA 0x02

/* The DMA interface: the guest writes the address of this structure (all
 * fields big-endian) to the DMA address register. */
struct fw_cfg_dma_access {
	uint32_t control; /* bits below; the key in bits 31-16 with SELECT */
	uint32_t length;
	uint64_t address;
};
#define FW_CFG_DMA_CTL_ERROR  0x01
#define FW_CFG_DMA_CTL_READ   0x02
#define FW_CFG_DMA_CTL_SKIP   0x04
#define FW_CFG_DMA_CTL_SELECT 0x08
#define FW_CFG_DMA_CTL_WRITE  0x10
/* What a read of the DMA address register returns ("QEMU CFG" big-endian). */
#define FW_CFG_DMA_SIGNATURE 0x51454d5520434647ull

/* Port layout relative to the device's base (PORT_FW_CFG). */
#define FW_CFG_PORT_SEL	     0 /* 16-bit selector write */
#define FW_CFG_PORT_DATA     1 /* 8-bit data reads */
#define FW_CFG_PORT_DMA_HIGH 4 /* DMA address, high 32 bits (big-endian) */
#define FW_CFG_PORT_DMA_LOW  8 /* low 32 bits; writing it starts the transfer */

/* The model reads RAM_SIZE and NB_CPUS from the machine when it is created:
 * allocate RAM and set m->cpus first.
 *
 * `fw` is the model's state (machine_device(m, id) of a "fw_cfg" device).
 * These are for the boot code, before the VM runs; they take the device's
 * lock, so they are also safe while it runs. All return 0 or -errno. */

/* Sets item `key` to a copy of data[0..len), replacing what was there
 * (so UUID, NOGRAPHIC, BOOT_MENU, ... can be changed). -EINVAL for the
 * model's own keys (ID, FILE_DIR), file selectors (use fw_cfg_add_file),
 * keys with FW_CFG_WRITE_CHANNEL and arch-local keys from 0x8020 on;
 * -EFBIG if len does not fit 32 bits. */
int fw_cfg_add_bytes(void *fw, uint16_t key, const void *data, size_t len);
/* Numbers, stored little-endian as QEMU does. */
int fw_cfg_add_u16(void *fw, uint16_t key, uint16_t value);
int fw_cfg_add_u32(void *fw, uint16_t key, uint32_t value);
int fw_cfg_add_u64(void *fw, uint16_t key, uint64_t value);

/* Adds a read-only file with a copy of data[0..len). The name must be 1 to
 * FW_CFG_MAX_FILE_PATH - 1 bytes (-EINVAL / -ENAMETOOLONG); a name already
 * there: -EEXIST; more than 0x3fe0 files: -ENOSPC. Adding a file renumbers
 * the files sorted after it, as QEMU does: add every file before the guest
 * runs. */
int fw_cfg_add_file(void *fw, const char *name, const void *data, size_t len);

/* Called after the guest wrote data[0..len) at `offset` of a writable file
 * through DMA (the file's content already holds it). It runs in the vCPU
 * thread with the device's lock held: it must not call fw_cfg functions. */
typedef void (*fw_cfg_write_fn)(void *opaque, uint32_t offset, const void *data, uint32_t len);
/* A file the guest may also write through DMA (within its size; it never
 * grows); fn may be NULL. */
int fw_cfg_add_file_writable(void *fw, const char *name, const void *data, size_t len,
			     fw_cfg_write_fn fn, void *opaque);

#endif
