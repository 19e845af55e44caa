/* The Linux x86 boot protocol (Documentation/arch/x86/boot.rst): bzImage
 * set-up header checks, protected-mode kernel and initrd placement, the
 * zero page, and the 64-bit (or 32-bit) entry state. */
#include "hypervisor/boot/boot.h"

#include "hypervisor/bytes.h"
#include "hypervisor/log.h"
#include "hypervisor/platform.h"

#include <errno.h>
#include <string.h>

/* Offsets into the bzImage and into boot_params (the zero page). */
#define HDR_SETUP_SECTS	     0x1f1
#define HDR_BOOT_FLAG	     0x1fe
#define HDR_JUMP	     0x200
#define HDR_MAGIC	     0x202
#define HDR_VERSION	     0x206
#define HDR_TYPE_OF_LOADER   0x210
#define HDR_LOADFLAGS	     0x211
#define HDR_CODE32_START     0x214
#define HDR_RAMDISK_IMAGE    0x218
#define HDR_RAMDISK_SIZE     0x21c
#define HDR_HEAP_END_PTR     0x224
#define HDR_CMD_LINE_PTR     0x228
#define HDR_INITRD_ADDR_MAX  0x22c
#define HDR_KERNEL_ALIGNMENT 0x230
#define HDR_RELOCATABLE	     0x234
#define HDR_XLOADFLAGS	     0x236
#define HDR_CMDLINE_SIZE     0x238
#define HDR_PREF_ADDRESS     0x258
#define HDR_INIT_SIZE	     0x260

#define BP_ACPI_RSDP_ADDR    0x070
#define BP_EXT_RAMDISK_IMAGE 0x0c0
#define BP_EXT_RAMDISK_SIZE  0x0c4
#define BP_EXT_CMD_LINE_PTR  0x0c8
#define BP_E820_ENTRIES	     0x1e8
#define BP_E820_TABLE	     0x2d0

#define LOADED_HIGH	      0x01
#define CAN_USE_HEAP	      0x80
#define XLF_KERNEL_64	      0x01
#define LOADER_TYPE_UNDEFINED 0xff /* osio has no assigned boot loader id */

#define MIN_VERSION	    0x0206 /* cmdline_size, 2.06 */
#define KERNEL_DEFAULT_ADDR 0x100000ull

bool linux_detect(const uint8_t *img, size_t size)
{
	return size > HDR_MAGIC + 4 && memcmp(img + HDR_MAGIC, "HdrS", 4) == 0;
}

struct kernel_layout {
	uint16_t version;
	size_t setup_size;    /* boot sector + setup sectors */
	size_t header_end;    /* end of the setup header in the file */
	uint64_t load_addr;   /* protected-mode kernel */
	uint64_t mem_size;    /* bytes it needs from load_addr (init_size) */
	uint64_t initrd_addr; /* 0 without initrd */
	uint32_t cmdline_max; /* bytes, without the NUL */
	bool entry64;
};

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static int layout(const struct boot_plan *b, const struct machine *m, struct kernel_layout *k)
{
	const uint8_t *img = b->kernel.data;
	size_t size = b->kernel.size;
	const char *path = b->kernel.path;
	memset(k, 0, sizeof(*k));
	if (size < HDR_INIT_SIZE + 4) {
		log_error("kernel %s: truncated Linux boot header", path);
		return -ENOEXEC;
	}
	k->version = get_le16(img + HDR_VERSION);
	if (k->version < MIN_VERSION) {
		log_error("kernel %s uses Linux boot protocol %u.%02u; osio needs 2.06 or later "
			  "(Linux 2.6.22+)",
			  path, k->version >> 8, k->version & 0xff);
		return -ENOTSUP;
	}
	if (!(img[HDR_LOADFLAGS] & LOADED_HIGH)) {
		log_error("kernel %s is a zImage (loaded low); osio boots bzImages", path);
		return -ENOTSUP;
	}
	unsigned sects = img[HDR_SETUP_SECTS] ? img[HDR_SETUP_SECTS] : 4;
	k->setup_size = (size_t)(sects + 1) * 512;
	k->header_end = HDR_MAGIC + img[HDR_JUMP + 1];
	if (k->setup_size >= size || k->header_end > k->setup_size || k->header_end > 0x290) {
		log_error("kernel %s: the setup header's sizes do not match the file", path);
		return -ENOEXEC;
	}
	uint64_t kernel_size = size - k->setup_size;
	uint64_t init_size = k->version >= 0x020a ? get_le32(img + HDR_INIT_SIZE) : 0;
	k->mem_size = init_size > kernel_size ? init_size : kernel_size;

	k->load_addr = KERNEL_DEFAULT_ADDR;
	if (k->version >= 0x020a && img[HDR_RELOCATABLE]) {
		uint64_t pref = get_le64(img + HDR_PREF_ADDRESS);
		uint32_t align = get_le32(img + HDR_KERNEL_ALIGNMENT);
		if (align && (align & (align - 1)) == 0)
			pref = align_up(pref, align);
		if (pref >= KERNEL_DEFAULT_ADDR && pref + k->mem_size <= m->ram_below_4g)
			k->load_addr = pref;
	} else if (k->version >= 0x020a) {
		k->load_addr = get_le64(img + HDR_PREF_ADDRESS);
	}
	if (k->load_addr < KERNEL_DEFAULT_ADDR || k->load_addr + k->mem_size > m->ram_below_4g) {
		log_error("kernel %s needs %llu MiB of RAM from 0x%llx; give the VM more memory "
			  "(it has %llu MiB below 4 GiB)",
			  path, (unsigned long long)(k->mem_size >> 20),
			  (unsigned long long)k->load_addr,
			  (unsigned long long)(m->ram_below_4g >> 20));
		return -ENOSPC;
	}
	k->entry64 = k->version >= 0x020c && (get_le16(img + HDR_XLOADFLAGS) & XLF_KERNEL_64);
	k->cmdline_max = get_le32(img + HDR_CMDLINE_SIZE);
	if (strlen(b->append) > k->cmdline_max) {
		log_error("the kernel command line is %zu bytes; kernel %s accepts at most %u",
			  strlen(b->append), path, k->cmdline_max);
		return -E2BIG;
	}
	if (BOOT_CMDLINE_ADDR + strlen(b->append) + 1 > BOOT_LOW_END) {
		log_error("the kernel command line is too long (%zu bytes)", strlen(b->append));
		return -E2BIG;
	}

	if (b->initrd.size) {
		uint64_t max =
		    k->version >= 0x0203 ? get_le32(img + HDR_INITRD_ADDR_MAX) : 0x37ffffff;
		uint64_t top = m->ram_below_4g < max + 1 ? m->ram_below_4g : max + 1;
		uint64_t kernel_end = align_up(k->load_addr + k->mem_size, 4096);
		if (top < b->initrd.size || ((top - b->initrd.size) & ~0xfffull) < kernel_end) {
			log_error(
			    "initrd %s (%llu MiB) does not fit between the kernel and 0x%llx; "
			    "give the VM more memory",
			    b->initrd.path, (unsigned long long)(b->initrd.size >> 20),
			    (unsigned long long)top);
			return -ENOSPC;
		}
		k->initrd_addr = (top - b->initrd.size) & ~0xfffull;
	}
	return 0;
}

int linux_check(const struct boot_plan *b, const struct machine *m)
{
	struct kernel_layout k;
	int r = layout(b, m, &k);
	if (r == 0 && tracing(TRACE_BOOT))
		log_trace("linux: protocol %u.%02u, kernel at 0x%llx (%llu KiB), %s entry, initrd "
			  "at 0x%llx",
			  k.version >> 8, k.version & 0xff, (unsigned long long)k.load_addr,
			  (unsigned long long)(k.mem_size >> 10), k.entry64 ? "64-bit" : "32-bit",
			  (unsigned long long)k.initrd_addr);
	return r;
}

/* Identity map of the first 4 GiB in 2 MiB pages, for the 64-bit entry. */
static int write_page_tables(struct machine *m)
{
	uint64_t *pml4 = gpa_to_hva(&m->mem, BOOT_PML4_ADDR, 4096);
	uint64_t *pdpt = gpa_to_hva(&m->mem, BOOT_PDPT_ADDR, 4096);
	uint64_t *pd = gpa_to_hva(&m->mem, BOOT_PD_ADDR, 4 * 4096);
	if (!pml4 || !pdpt || !pd)
		return -EFAULT;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = BOOT_PDPT_ADDR | 0x3; /* present, writable */
	for (unsigned i = 0; i < 4; i++)
		pdpt[i] = (BOOT_PD_ADDR + i * 4096ull) | 0x3;
	for (uint64_t i = 0; i < 4 * 512; i++)
		pd[i] = (i << 21) | 0x83; /* present, writable, 2 MiB page */
	return 0;
}

int linux_load(const struct boot_plan *b, struct machine *m, struct boot_cpu_state *st)
{
	struct kernel_layout k;
	int r = layout(b, m, &k);
	if (r < 0)
		return r;
	const uint8_t *img = b->kernel.data;
	if (guest_write(&m->mem, k.load_addr, img + k.setup_size, b->kernel.size - k.setup_size) <
	    0)
		return -EFAULT;
	if (b->initrd.size &&
	    guest_write(&m->mem, k.initrd_addr, b->initrd.data, b->initrd.size) < 0)
		return -EFAULT;
	if (guest_write(&m->mem, BOOT_CMDLINE_ADDR, b->append, strlen(b->append) + 1) < 0)
		return -EFAULT;

	uint8_t *zp = gpa_to_hva(&m->mem, BOOT_ZERO_PAGE_ADDR, 4096);
	if (!zp)
		return -EFAULT;
	memset(zp, 0, 4096);
	memcpy(zp + HDR_SETUP_SECTS, img + HDR_SETUP_SECTS, k.header_end - HDR_SETUP_SECTS);
	zp[HDR_TYPE_OF_LOADER] = LOADER_TYPE_UNDEFINED;
	zp[HDR_LOADFLAGS] |= CAN_USE_HEAP;
	zp[HDR_HEAP_END_PTR] = 0x00;
	zp[HDR_HEAP_END_PTR + 1] = 0xfe; /* 0xfe00: the usual end of the setup heap */
	put_le32(zp + HDR_CODE32_START, (uint32_t)k.load_addr);
	put_le32(zp + HDR_CMD_LINE_PTR, (uint32_t)BOOT_CMDLINE_ADDR);
	put_le32(zp + BP_EXT_CMD_LINE_PTR, 0);
	put_le32(zp + HDR_RAMDISK_IMAGE, (uint32_t)k.initrd_addr);
	put_le32(zp + HDR_RAMDISK_SIZE, (uint32_t)b->initrd.size);
	put_le32(zp + BP_EXT_RAMDISK_IMAGE, (uint32_t)(k.initrd_addr >> 32));
	put_le32(zp + BP_EXT_RAMDISK_SIZE, (uint32_t)((uint64_t)b->initrd.size >> 32));
	if (k.version >= 0x020e) {
		put_le32(zp + BP_ACPI_RSDP_ADDR, (uint32_t)b->acpi.rsdp);
		put_le32(zp + BP_ACPI_RSDP_ADDR + 4, (uint32_t)(b->acpi.rsdp >> 32));
	}
	unsigned n = b->e820.n < E820_MAX_ENTRIES ? b->e820.n : E820_MAX_ENTRIES;
	zp[BP_E820_ENTRIES] = (uint8_t)n;
	memcpy(zp + BP_E820_TABLE, b->e820.e, n * sizeof(b->e820.e[0]));
	/* screen_info stays zero: this machine has no display (no VGA). */

	memset(&st->regs, 0, sizeof(st->regs));
	st->regs.rflags = 0x2;
	st->regs.rsi = BOOT_ZERO_PAGE_ADDR;
	if ((r = boot_write_gdt(m, &st->sregs, k.entry64)) < 0)
		return r;
	boot_flat_segments(&st->sregs, k.entry64);
	if (k.entry64) {
		if ((r = write_page_tables(m)) < 0)
			return r;
		st->sregs.cr3 = BOOT_PML4_ADDR;
		st->sregs.cr4 = 0x20;	    /* PAE */
		st->sregs.cr0 = 0x80000011; /* PG, ET, PE */
		st->sregs.efer = 0x500;	    /* LME, LMA */
		st->regs.rip = k.load_addr + 0x200;
	} else {
		st->sregs.cr0 = 0x11;
		st->sregs.cr4 = 0;
		st->sregs.efer = 0;
		st->regs.rip = k.load_addr;
	}
	if (tracing(TRACE_BOOT))
		log_trace("linux: entering at 0x%llx (%s), zero page 0x%llx",
			  (unsigned long long)st->regs.rip, k.entry64 ? "64-bit" : "32-bit",
			  (unsigned long long)BOOT_ZERO_PAGE_ADDR);
	return 0;
}
