/* The multiboot loader: ELF and a.out-kludge kernels built in the test,
 * the boot information a kernel reads, the entry state, and refusals. */
#include "hypervisor/boot/boot.h"
#include "hypervisor/platform.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

struct fixture {
	struct machine m;
	struct boot_plan plan;
	uint8_t image[16384];
	uint8_t module[5000];
};

static void wr32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static uint32_t rd32(const void *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static void wr16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

/* ELF32 with one PT_LOAD: 0x100 bytes of file data at paddr, memsz 0x2000;
 * the multiboot header at offset 0x80 (inside the loaded data). */
static size_t make_elf(uint8_t *img, uint32_t paddr, uint32_t vaddr, uint32_t mbflags)
{
	memset(img, 0, 0x1000);
	memcpy(img, "\x7f" "ELF", 4);
	img[4] = 1; /* 32-bit */
	img[5] = 1; /* little-endian */
	img[6] = 1;
	wr16(img + 16, 2);  /* ET_EXEC */
	wr16(img + 18, 3);  /* EM_386 */
	wr32(img + 24, vaddr + 0x10); /* entry */
	wr32(img + 28, 52); /* phoff */
	wr16(img + 42, 32);
	wr16(img + 44, 1);
	uint8_t *ph = img + 52;
	wr32(ph, 1);
	wr32(ph + 4, 0x1000);
	wr32(ph + 8, vaddr);
	wr32(ph + 12, paddr);
	wr32(ph + 16, 0x100);
	wr32(ph + 20, 0x2000);
	for (int i = 0; i < 0x100; i++)
		img[0x1000 + i] = (uint8_t)(i ^ 0x5a);
	uint8_t *h = img + 0x80;
	wr32(h, 0x1badb002);
	wr32(h + 4, mbflags);
	wr32(h + 8, (uint32_t)-(0x1badb002u + mbflags));
	return 0x1100;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_int_equal(machine_init(&f->m), 0);
	assert_int_equal(machine_alloc_ram(&f->m, 64 * MiB, false), 0);
	f->plan.kind = BOOT_MULTIBOOT;
	f->plan.kernel.path = "/tmp/kernel.elf";
	f->plan.kernel.data = f->image;
	f->plan.append = "mem=64M cpus=1";
	f->plan.cpus = 1;
	assert_int_equal(e820_build_pc(&f->plan.e820, &f->m), 0);
	assert_int_equal(acpi_build(&f->plan.acpi, BIOS_AREA_START, 1), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	acpi_free(&f->plan.acpi);
	machine_free_ram(&f->m);
	machine_destroy(&f->m);
	free(f);
	return 0;
}

static void test_elf_load(void **state)
{
	struct fixture *f = *state;
	f->plan.kernel.size = make_elf(f->image, 0x100000, 0xc0100000, 0x3);
	for (size_t i = 0; i < sizeof(f->module); i++)
		f->module[i] = (uint8_t)(i * 7);
	f->plan.initrd = (struct boot_file){ "/tmp/module.bin", f->module, sizeof(f->module) };
	/* Garbage where the bss goes: the loader must clear it. */
	memset(gpa_to_hva(&f->m.mem, 0x100000, 0x2000), 0xcc, 0x2000);
	assert_int_equal(multiboot_check(&f->plan, &f->m), 0);
	struct boot_cpu_state st = { 0 };
	assert_int_equal(multiboot_load(&f->plan, &f->m, &st), 0);

	assert_int_equal(st.regs.rax, 0x2badb002);
	assert_int_equal(st.regs.rbx, BOOT_INFO_ADDR);
	assert_int_equal(st.regs.rip, 0x100010); /* virtual entry made physical */
	assert_int_equal(st.regs.rflags & 0x200, 0);
	assert_int_equal(st.sregs.cr0 & 0x80000001, 1);
	assert_int_equal(st.sregs.cs.db, 1);
	assert_int_equal(st.sregs.cs.limit, 0xffffffff);

	const uint8_t *k = gpa_to_hva(&f->m.mem, 0x100000, 0x2000);
	assert_memory_equal(k, f->image + 0x1000, 0x100);
	for (int i = 0x100; i < 0x2000; i++)
		assert_int_equal(k[i], 0);

	const uint8_t *mbi = gpa_to_hva(&f->m.mem, BOOT_INFO_ADDR, 116);
	uint32_t flags = rd32(mbi);
	assert_true(flags & (1u << 0));
	assert_true(flags & (1u << 2));
	assert_true(flags & (1u << 3));
	assert_true(flags & (1u << 6));
	assert_true(flags & (1u << 9));
	assert_int_equal(rd32(mbi + 4), 639);
	assert_int_equal(rd32(mbi + 8), 63 * 1024);
	const char *cmd = gpa_to_hva(&f->m.mem, rd32(mbi + 16), 1);
	assert_string_equal(cmd, "/tmp/kernel.elf mem=64M cpus=1");
	assert_string_equal(gpa_to_hva(&f->m.mem, rd32(mbi + 64), 1), "osio");

	assert_int_equal(rd32(mbi + 20), 1);
	const uint8_t *mod = gpa_to_hva(&f->m.mem, rd32(mbi + 24), 16);
	uint32_t start = rd32(mod), end = rd32(mod + 4);
	assert_int_equal(start % 4096, 0);
	assert_true(start >= 0x102000);
	assert_int_equal(end - start, sizeof(f->module));
	assert_memory_equal(gpa_to_hva(&f->m.mem, start, sizeof(f->module)), f->module,
			    sizeof(f->module));
	assert_string_equal(gpa_to_hva(&f->m.mem, rd32(mod + 8), 1), "/tmp/module.bin");

	uint32_t mlen = rd32(mbi + 44), maddr = rd32(mbi + 48);
	assert_int_equal(mlen, f->plan.e820.n * 24);
	const uint8_t *mm = gpa_to_hva(&f->m.mem, maddr, mlen);
	for (unsigned i = 0; i < f->plan.e820.n; i++) {
		assert_int_equal(rd32(mm + i * 24), 20);
		assert_memory_equal(mm + i * 24 + 4, &f->plan.e820.e[i], 20);
	}
}

static void test_aout_kludge(void **state)
{
	struct fixture *f = *state;
	/* A flat binary: header at offset 0x40 says header_addr 0x200040,
	 * load 0x200000.., bss to 0x203000, entry 0x200100. */
	uint8_t *img = f->image;
	memset(img, 0x90, 0x1000);
	uint8_t *h = img + 0x40;
	uint32_t flags = 0x10002;
	wr32(h, 0x1badb002);
	wr32(h + 4, flags);
	wr32(h + 8, (uint32_t)-(0x1badb002u + flags));
	wr32(h + 12, 0x200040);
	wr32(h + 16, 0x200000);
	wr32(h + 20, 0x200800);
	wr32(h + 24, 0x203000);
	wr32(h + 28, 0x200100);
	f->plan.kernel.size = 0x1000;
	memset(gpa_to_hva(&f->m.mem, 0x200000, 0x3000), 0xcc, 0x3000);
	assert_int_equal(multiboot_check(&f->plan, &f->m), 0);
	struct boot_cpu_state st = { 0 };
	assert_int_equal(multiboot_load(&f->plan, &f->m, &st), 0);
	assert_int_equal(st.regs.rip, 0x200100);
	const uint8_t *k = gpa_to_hva(&f->m.mem, 0x200000, 0x3000);
	assert_memory_equal(k, img, 0x800);
	for (int i = 0x800; i < 0x3000; i++)
		assert_int_equal(k[i], 0);
	const uint8_t *mbi = gpa_to_hva(&f->m.mem, BOOT_INFO_ADDR, 116);
	assert_false(rd32(mbi) & (1u << 3)); /* no modules */
}

static void test_refusals(void **state)
{
	struct fixture *f = *state;
	/* Requirement bits the loader does not know. */
	f->plan.kernel.size = make_elf(f->image, 0x100000, 0x100000, 0x3 | 0x8);
	assert_int_equal(multiboot_check(&f->plan, &f->m), -ENOTSUP);
	/* Loading into the loader's own low memory. */
	f->plan.kernel.size = make_elf(f->image, 0x10000, 0x10000, 0x3);
	assert_int_equal(multiboot_check(&f->plan, &f->m), -ENOSPC);
	/* Past the end of RAM. */
	f->plan.kernel.size = make_elf(f->image, 64 * MiB - 0x1000, 64 * MiB - 0x1000, 0x3);
	assert_int_equal(multiboot_check(&f->plan, &f->m), -ENOSPC);
	/* A segment that reaches past the end of the file. */
	f->plan.kernel.size = make_elf(f->image, 0x100000, 0x100000, 0x3) - 0x10;
	assert_int_equal(multiboot_check(&f->plan, &f->m), -ENOEXEC);
	/* Program headers past the end of the file. */
	f->plan.kernel.size = make_elf(f->image, 0x100000, 0x100000, 0x3);
	wr32(f->image + 28, 0xfffffff0);
	assert_int_equal(multiboot_check(&f->plan, &f->m), -ENOEXEC);
	/* A module that cannot fit. */
	f->plan.kernel.size = make_elf(f->image, 0x100000, 0x100000, 0x3);
	static uint8_t big[1];
	f->plan.initrd = (struct boot_file){ "/tmp/big", big, 64 * MiB };
	assert_int_equal(multiboot_check(&f->plan, &f->m), -ENOSPC);
	f->plan.initrd = (struct boot_file){ 0 };
	/* No multiboot header at all. */
	memset(f->image, 0, sizeof(f->image));
	assert_false(multiboot_detect(f->image, sizeof(f->image)));
	/* A bad checksum is no header. */
	make_elf(f->image, 0x100000, 0x100000, 0x3);
	f->image[0x88] ^= 1;
	assert_false(multiboot_detect(f->image, sizeof(f->image)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_elf_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aout_kludge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
