/* Multiboot (version 1) kernels: the header, ELF or a.out-kludge loading,
 * the boot information with memory map, command line and modules, and the
 * 32-bit protected-mode entry state the specification defines. */
#include "hypervisor/boot/boot.h"

#include "hypervisor/bytes.h"
#include "hypervisor/log.h"
#include "hypervisor/platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MB_MAGIC	      0x1badb002u
#define MB_BOOT_MAGIC	      0x2badb002u
#define MB_SEARCH	      8192
#define MB_FLAG_PAGE_ALIGN    (1u << 0)
#define MB_FLAG_MEMINFO	      (1u << 1)
#define MB_FLAG_VIDEO	      (1u << 2)
#define MB_FLAG_AOUT	      (1u << 16)
#define MB_KNOWN_REQUIREMENTS (MB_FLAG_PAGE_ALIGN | MB_FLAG_MEMINFO | MB_FLAG_VIDEO)

#define MBI_MEM		(1u << 0)
#define MBI_CMDLINE	(1u << 2)
#define MBI_MODS	(1u << 3)
#define MBI_MMAP	(1u << 6)
#define MBI_LOADER_NAME (1u << 9)
#define MBI_SIZE	116

#define MAX_SEGMENTS 32

struct segment {
	uint64_t file_off, paddr, filesz, memsz;
};

struct layout {
	struct segment seg[MAX_SEGMENTS];
	unsigned n;
	uint64_t entry;
	uint64_t end; /* highest byte loaded + 1 */
	uint32_t flags;
};

static long find_header(const uint8_t *img, size_t size)
{
	size_t limit = size < MB_SEARCH ? size : MB_SEARCH;
	for (size_t off = 0; off + 12 <= limit; off += 4) {
		uint32_t magic = get_le32(img + off);
		if (magic == MB_MAGIC &&
		    magic + get_le32(img + off + 4) + get_le32(img + off + 8) == 0)
			return (long)off;
	}
	return -1;
}

bool multiboot_detect(const uint8_t *img, size_t size)
{
	return find_header(img, size) >= 0;
}

static int add_segment(struct layout *l, const char *path, uint64_t off, uint64_t paddr,
		       uint64_t filesz, uint64_t memsz, size_t size)
{
	if (memsz == 0)
		return 0;
	if (l->n == MAX_SEGMENTS) {
		log_error("kernel %s: more than %d loadable segments", path, MAX_SEGMENTS);
		return -E2BIG;
	}
	if (filesz > memsz || off > size || filesz > size - off || paddr + memsz < paddr ||
	    paddr + memsz > HIGHMEM_START) {
		log_error("kernel %s: a segment (file offset 0x%llx, %llu bytes to 0x%llx) lies "
			  "outside the file or above 4 GiB",
			  path, (unsigned long long)off, (unsigned long long)memsz,
			  (unsigned long long)paddr);
		return -ENOEXEC;
	}
	l->seg[l->n++] = (struct segment){off, paddr, filesz, memsz};
	if (paddr + memsz > l->end)
		l->end = paddr + memsz;
	return 0;
}

static int parse_elf(struct layout *l, const char *path, const uint8_t *img, size_t size)
{
	if (size < 52 ||
	    memcmp(img,
		   "\x7f"
		   "ELF",
		   4) != 0 ||
	    img[5] != 1) {
		log_error("kernel %s: multiboot header without the a.out fields, and not a "
			  "little-endian ELF file",
			  path);
		return -ENOEXEC;
	}
	bool is64 = img[4] == 2;
	if (img[4] != 1 && !is64)
		goto bad;
	uint64_t entry, phoff;
	unsigned phentsize, phnum;
	if (is64) {
		if (size < 64)
			goto bad;
		entry = get_le64(img + 24);
		phoff = get_le64(img + 32);
		phentsize = get_le16(img + 54);
		phnum = get_le16(img + 56);
		if (phentsize < 56)
			goto bad;
	} else {
		entry = get_le32(img + 24);
		phoff = get_le32(img + 28);
		phentsize = get_le16(img + 42);
		phnum = get_le16(img + 44);
		if (phentsize < 32)
			goto bad;
	}
	if (phoff > size || (uint64_t)phentsize * phnum > size - phoff)
		goto bad;
	l->entry = entry;
	bool entry_mapped = false;
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = img + phoff + (uint64_t)i * phentsize;
		uint64_t off, vaddr, paddr, filesz, memsz;
		if (get_le32(ph) != 1) /* PT_LOAD */
			continue;
		if (is64) {
			off = get_le64(ph + 8);
			vaddr = get_le64(ph + 16);
			paddr = get_le64(ph + 24);
			filesz = get_le64(ph + 32);
			memsz = get_le64(ph + 40);
		} else {
			off = get_le32(ph + 4);
			vaddr = get_le32(ph + 8);
			paddr = get_le32(ph + 12);
			filesz = get_le32(ph + 16);
			memsz = get_le32(ph + 20);
		}
		int r = add_segment(l, path, off, paddr, filesz, memsz, size);
		if (r < 0)
			return r;
		/* An entry given as a virtual address is turned into the
		 * physical one of the segment holding it. */
		if (!entry_mapped && entry >= vaddr && entry - vaddr < memsz) {
			l->entry = paddr + (entry - vaddr);
			entry_mapped = true;
		}
	}
	if (l->n == 0) {
		log_error("kernel %s: the ELF file has nothing to load", path);
		return -ENOEXEC;
	}
	return 0;
bad:
	log_error("kernel %s: malformed ELF header or program headers", path);
	return -ENOEXEC;
}

static int parse(struct layout *l, const char *path, const uint8_t *img, size_t size)
{
	memset(l, 0, sizeof(*l));
	long hoff = find_header(img, size);
	if (hoff < 0)
		return -ENOEXEC;
	const uint8_t *h = img + hoff;
	l->flags = get_le32(h + 4);
	uint32_t unknown = l->flags & 0xffffu & ~MB_KNOWN_REQUIREMENTS;
	if (unknown) {
		log_error("kernel %s: its multiboot header requires features osio does not "
			  "provide (flag bits 0x%x)",
			  path, unknown);
		return -ENOTSUP;
	}
	if (!(l->flags & MB_FLAG_AOUT))
		return parse_elf(l, path, img, size);

	if ((size_t)hoff + 32 > size) {
		log_error("kernel %s: truncated multiboot header", path);
		return -ENOEXEC;
	}
	uint32_t header_addr = get_le32(h + 12), load_addr = get_le32(h + 16);
	uint32_t load_end = get_le32(h + 20), bss_end = get_le32(h + 24);
	l->entry = get_le32(h + 28);
	if (load_addr > header_addr || header_addr - load_addr > (uint64_t)hoff) {
		log_error("kernel %s: multiboot header_addr/load_addr do not match the file", path);
		return -ENOEXEC;
	}
	uint64_t file_off = (uint64_t)hoff - (header_addr - load_addr);
	uint64_t filesz = load_end ? (uint64_t)load_end - load_addr : size - file_off;
	if (load_end && load_end < load_addr) {
		log_error("kernel %s: multiboot load_end_addr is below load_addr", path);
		return -ENOEXEC;
	}
	uint64_t memsz = filesz;
	if (bss_end) {
		if (bss_end < load_addr + filesz) {
			log_error("kernel %s: multiboot bss_end_addr is below the loaded image",
				  path);
			return -ENOEXEC;
		}
		memsz = (uint64_t)bss_end - load_addr;
	}
	return add_segment(l, path, file_off, load_addr, filesz, memsz, size);
}

static bool in_usable_ram(const struct e820_table *t, uint64_t addr, uint64_t len)
{
	for (unsigned i = 0; i < t->n; i++)
		if (t->e[i].type == E820_RAM && addr >= t->e[i].addr &&
		    addr + len <= t->e[i].addr + t->e[i].size)
			return true;
	return false;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

int multiboot_check(const struct boot_plan *b, const struct machine *m)
{
	struct layout l;
	int r = parse(&l, b->kernel.path, b->kernel.data, b->kernel.size);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < l.n; i++) {
		const struct segment *s = &l.seg[i];
		if (s->paddr < BOOT_LOW_END || !in_usable_ram(&b->e820, s->paddr, s->memsz)) {
			log_error("kernel %s: it loads 0x%llx-0x%llx, which is not free RAM in a "
				  "VM of this size (kernels load at 0x%llx or above; the VM has "
				  "%llu MiB below 4 GiB)",
				  b->kernel.path, (unsigned long long)s->paddr,
				  (unsigned long long)(s->paddr + s->memsz - 1),
				  (unsigned long long)BOOT_LOW_END,
				  (unsigned long long)(m->ram_below_4g >> 20));
			return -ENOSPC;
		}
	}
	if (l.flags & MB_FLAG_VIDEO)
		log_info("kernel %s asks for a video mode; this VM has no display, so it boots "
			 "without one",
			 b->kernel.path);
	if (b->initrd.size) {
		uint64_t start = align_up(l.end, 4096);
		if (!in_usable_ram(&b->e820, start, b->initrd.size)) {
			log_error("initrd %s (%llu KiB) does not fit in RAM after the kernel; give "
				  "the VM more memory",
				  b->initrd.path, (unsigned long long)(b->initrd.size >> 10));
			return -ENOSPC;
		}
	}
	size_t need = MBI_SIZE + 16 + strlen(b->kernel.path) + 1 + strlen(b->append) + 1 +
		      strlen(b->initrd.path ? b->initrd.path : "") + 1 + 8 + b->e820.n * 24 + 64;
	if (need > BOOT_INFO_END - BOOT_INFO_ADDR) {
		log_error("the multiboot command line is too long (%zu bytes)", strlen(b->append));
		return -E2BIG;
	}
	return 0;
}

struct info_writer {
	struct machine *m;
	uint64_t next;
};

static uint64_t info_put(struct info_writer *w, const void *data, size_t len, size_t align)
{
	w->next = align_up(w->next, align);
	uint64_t at = w->next;
	guest_write(&w->m->mem, at, data, len);
	w->next += len;
	return at;
}

int multiboot_load(const struct boot_plan *b, struct machine *m, struct boot_cpu_state *st)
{
	struct layout l;
	int r = parse(&l, b->kernel.path, b->kernel.data, b->kernel.size);
	if (r < 0)
		return r;
	for (unsigned i = 0; i < l.n; i++) {
		const struct segment *s = &l.seg[i];
		uint8_t *dst = gpa_to_hva(&m->mem, s->paddr, s->memsz);
		if (!dst)
			return -EFAULT; /* checked in multiboot_check */
		memcpy(dst, b->kernel.data + s->file_off, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}

	uint8_t *info = gpa_to_hva(&m->mem, BOOT_INFO_ADDR, BOOT_INFO_END - BOOT_INFO_ADDR);
	if (!info)
		return -EFAULT;
	memset(info, 0, BOOT_INFO_END - BOOT_INFO_ADDR);
	struct info_writer w = {.m = m, .next = BOOT_INFO_ADDR + MBI_SIZE};
	uint8_t mbi[MBI_SIZE] = {0};
	uint32_t flags = MBI_MEM | MBI_CMDLINE | MBI_MMAP | MBI_LOADER_NAME;

	/* Like GRUB and QEMU: the command line starts with the kernel's
	 * name. */
	size_t clen = strlen(b->kernel.path) + 1 + strlen(b->append) + 1;
	char *cmdline = malloc(clen);
	if (!cmdline)
		return -ENOMEM;
	snprintf(cmdline, clen, "%s%s%s", b->kernel.path, b->append[0] ? " " : "", b->append);
	uint64_t cmd_at = info_put(&w, cmdline, strlen(cmdline) + 1, 1);
	free(cmdline);
	static const char loader[] = "osio";
	uint64_t loader_at = info_put(&w, loader, sizeof(loader), 1);

	if (b->initrd.size) {
		uint64_t start = align_up(l.end, 4096);
		if (guest_write(&m->mem, start, b->initrd.data, b->initrd.size) < 0)
			return -EFAULT;
		uint64_t name_at = info_put(&w, b->initrd.path, strlen(b->initrd.path) + 1, 1);
		uint8_t mod[16] = {0};
		uint32_t v[3] = {(uint32_t)start, (uint32_t)(start + b->initrd.size),
				 (uint32_t)name_at};
		memcpy(mod, v, sizeof(v));
		uint64_t mods_at = info_put(&w, mod, sizeof(mod), 4);
		flags |= MBI_MODS;
		uint32_t count = 1, addr = (uint32_t)mods_at;
		memcpy(mbi + 20, &count, 4);
		memcpy(mbi + 24, &addr, 4);
	}

	w.next = align_up(w.next, 8);
	uint64_t mmap_at = w.next;
	for (unsigned i = 0; i < b->e820.n; i++) {
		uint8_t ent[24];
		uint32_t sz = 20;
		memcpy(ent, &sz, 4);
		memcpy(ent + 4, &b->e820.e[i], 20);
		info_put(&w, ent, sizeof(ent), 4);
	}
	uint32_t mem_lower = (uint32_t)(EBDA_START >> 10);
	uint32_t mem_upper = (uint32_t)((m->ram_below_4g - BIOS_AREA_END) >> 10);
	uint32_t fields[] = {flags, mem_lower, mem_upper};
	memcpy(mbi, fields, sizeof(fields));
	uint32_t v32 = (uint32_t)cmd_at;
	memcpy(mbi + 16, &v32, 4);
	v32 = (uint32_t)(b->e820.n * 24);
	memcpy(mbi + 44, &v32, 4);
	v32 = (uint32_t)mmap_at;
	memcpy(mbi + 48, &v32, 4);
	v32 = (uint32_t)loader_at;
	memcpy(mbi + 64, &v32, 4);
	guest_write(&m->mem, BOOT_INFO_ADDR, mbi, sizeof(mbi));
	if (tracing(TRACE_BOOT))
		log_trace("multiboot: entry 0x%llx, info at 0x%llx, kernel ends 0x%llx",
			  (unsigned long long)l.entry, (unsigned long long)BOOT_INFO_ADDR,
			  (unsigned long long)l.end);

	/* The machine state the specification defines: flat 32-bit
	 * protected mode, paging off, interrupts off, EAX/EBX. */
	boot_flat_segments(&st->sregs, false);
	if ((r = boot_write_gdt(m, &st->sregs, false)) < 0)
		return r;
	st->sregs.cr0 = 0x11; /* PE, ET */
	st->sregs.cr4 = 0;
	st->sregs.efer = 0;
	memset(&st->regs, 0, sizeof(st->regs));
	st->regs.rax = MB_BOOT_MAGIC;
	st->regs.rbx = BOOT_INFO_ADDR;
	st->regs.rip = l.entry;
	st->regs.rflags = 0x2;
	return 0;
}
