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

#include "tests/unit/boot/boot_fixture.h"

struct fixture {
	struct boot_machine b;
	uint8_t image[16384];
	uint8_t module[5000];
};

/* ELF32 with one PT_LOAD: 0x100 bytes of file data at paddr, memsz 0x2000;
 * the multiboot header at offset 0x80 (inside the loaded data). */
static size_t make_elf(uint8_t *img, uint32_t paddr, uint32_t vaddr, uint32_t mbflags)
{
	memset(img, 0, 0x1000);
	memcpy(img,
	       "\x7f"
	       "ELF",
	       4);
	img[4] = 1; /* 32-bit */
	img[5] = 1; /* little-endian */
	img[6] = 1;
	put_le16(img + 16, 2);		  /* ET_EXEC */
	put_le16(img + 18, 3);		  /* EM_386 */
	put_le32(img + 24, vaddr + 0x10); /* entry */
	put_le32(img + 28, 52);		  /* phoff */
	put_le16(img + 42, 32);
	put_le16(img + 44, 1);
	uint8_t *ph = img + 52;
	put_le32(ph, 1);
	put_le32(ph + 4, 0x1000);
	put_le32(ph + 8, vaddr);
	put_le32(ph + 12, paddr);
	put_le32(ph + 16, 0x100);
	put_le32(ph + 20, 0x2000);
	for (int i = 0; i < 0x100; i++)
		img[0x1000 + i] = (uint8_t)(i ^ 0x5a);
	uint8_t *h = img + 0x80;
	put_le32(h, 0x1badb002);
	put_le32(h + 4, mbflags);
	put_le32(h + 8, (uint32_t) - (0x1badb002u + mbflags));
	return 0x1100;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	boot_machine_init(&f->b, 64 * MiB, BOOT_MULTIBOOT, "/tmp/kernel.elf", "mem=64M cpus=1", 1);
	f->b.plan.kernel.data = f->image;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	boot_machine_fini(&f->b);
	free(f);
	return 0;
}

static void test_elf_load(void **state)
{
	struct fixture *f = *state;
	f->b.plan.kernel.size = make_elf(f->image, 0x100000, 0xc0100000, 0x3);
	for (size_t i = 0; i < sizeof(f->module); i++)
		f->module[i] = (uint8_t)(i * 7);
	f->b.plan.initrd = (struct boot_file){"/tmp/module.bin", f->module, sizeof(f->module)};
	/* Garbage where the bss goes: the loader must clear it. */
	memset(gpa_to_hva(&f->b.m.mem, 0x100000, 0x2000), 0xcc, 0x2000);
	assert_int_equal(multiboot_check(&f->b.plan, &f->b.m), 0);
	struct boot_cpu_state st = {0};
	assert_int_equal(multiboot_load(&f->b.plan, &f->b.m, &st), 0);

	assert_int_equal(st.regs.rax, 0x2badb002);
	assert_int_equal(st.regs.rbx, BOOT_INFO_ADDR);
	assert_int_equal(st.regs.rip, 0x100010); /* virtual entry made physical */
	assert_int_equal(st.regs.rflags & 0x200, 0);
	assert_int_equal(st.sregs.cr0 & 0x80000001, 1);
	assert_int_equal(st.sregs.cs.db, 1);
	assert_int_equal(st.sregs.cs.limit, 0xffffffff);

	const uint8_t *k = gpa_to_hva(&f->b.m.mem, 0x100000, 0x2000);
	assert_memory_equal(k, f->image + 0x1000, 0x100);
	for (int i = 0x100; i < 0x2000; i++)
		assert_int_equal(k[i], 0);

	const uint8_t *mbi = gpa_to_hva(&f->b.m.mem, BOOT_INFO_ADDR, 116);
	uint32_t flags = get_le32(mbi);
	assert_true(flags & (1u << 0));
	assert_true(flags & (1u << 2));
	assert_true(flags & (1u << 3));
	assert_true(flags & (1u << 6));
	assert_true(flags & (1u << 9));
	assert_int_equal(get_le32(mbi + 4), 639);
	assert_int_equal(get_le32(mbi + 8), 63 * 1024);
	const char *cmd = gpa_to_hva(&f->b.m.mem, get_le32(mbi + 16), 1);
	assert_string_equal(cmd, "/tmp/kernel.elf mem=64M cpus=1");
	assert_string_equal(gpa_to_hva(&f->b.m.mem, get_le32(mbi + 64), 1), "osio");

	assert_int_equal(get_le32(mbi + 20), 1);
	const uint8_t *mod = gpa_to_hva(&f->b.m.mem, get_le32(mbi + 24), 16);
	uint32_t start = get_le32(mod), end = get_le32(mod + 4);
	assert_int_equal(start % 4096, 0);
	assert_true(start >= 0x102000);
	assert_int_equal(end - start, sizeof(f->module));
	assert_memory_equal(gpa_to_hva(&f->b.m.mem, start, sizeof(f->module)), f->module,
			    sizeof(f->module));
	assert_string_equal(gpa_to_hva(&f->b.m.mem, get_le32(mod + 8), 1), "/tmp/module.bin");

	uint32_t mlen = get_le32(mbi + 44), maddr = get_le32(mbi + 48);
	assert_int_equal(mlen, f->b.plan.e820.n * 24);
	const uint8_t *mm = gpa_to_hva(&f->b.m.mem, maddr, mlen);
	for (unsigned i = 0; i < f->b.plan.e820.n; i++) {
		assert_int_equal(get_le32(mm + i * 24), 20);
		assert_memory_equal(mm + i * 24 + 4, &f->b.plan.e820.e[i], 20);
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
	put_le32(h, 0x1badb002);
	put_le32(h + 4, flags);
	put_le32(h + 8, (uint32_t) - (0x1badb002u + flags));
	put_le32(h + 12, 0x200040);
	put_le32(h + 16, 0x200000);
	put_le32(h + 20, 0x200800);
	put_le32(h + 24, 0x203000);
	put_le32(h + 28, 0x200100);
	f->b.plan.kernel.size = 0x1000;
	memset(gpa_to_hva(&f->b.m.mem, 0x200000, 0x3000), 0xcc, 0x3000);
	assert_int_equal(multiboot_check(&f->b.plan, &f->b.m), 0);
	struct boot_cpu_state st = {0};
	assert_int_equal(multiboot_load(&f->b.plan, &f->b.m, &st), 0);
	assert_int_equal(st.regs.rip, 0x200100);
	const uint8_t *k = gpa_to_hva(&f->b.m.mem, 0x200000, 0x3000);
	assert_memory_equal(k, img, 0x800);
	for (int i = 0x800; i < 0x3000; i++)
		assert_int_equal(k[i], 0);
	const uint8_t *mbi = gpa_to_hva(&f->b.m.mem, BOOT_INFO_ADDR, 116);
	assert_false(get_le32(mbi) & (1u << 3)); /* no modules */
}

static void test_refusals(void **state)
{
	struct fixture *f = *state;
	/* Requirement bits the loader does not know. */
	f->b.plan.kernel.size = make_elf(f->image, 0x100000, 0x100000, 0x3 | 0x8);
	assert_int_equal(multiboot_check(&f->b.plan, &f->b.m), -ENOTSUP);
	/* Loading into the loader's own low memory. */
	f->b.plan.kernel.size = make_elf(f->image, 0x10000, 0x10000, 0x3);
	assert_int_equal(multiboot_check(&f->b.plan, &f->b.m), -ENOSPC);
	/* Past the end of RAM. */
	f->b.plan.kernel.size = make_elf(f->image, 64 * MiB - 0x1000, 64 * MiB - 0x1000, 0x3);
	assert_int_equal(multiboot_check(&f->b.plan, &f->b.m), -ENOSPC);
	/* A segment that reaches past the end of the file. */
	f->b.plan.kernel.size = make_elf(f->image, 0x100000, 0x100000, 0x3) - 0x10;
	assert_int_equal(multiboot_check(&f->b.plan, &f->b.m), -ENOEXEC);
	/* Program headers past the end of the file. */
	f->b.plan.kernel.size = make_elf(f->image, 0x100000, 0x100000, 0x3);
	put_le32(f->image + 28, 0xfffffff0);
	assert_int_equal(multiboot_check(&f->b.plan, &f->b.m), -ENOEXEC);
	/* A module that cannot fit. */
	f->b.plan.kernel.size = make_elf(f->image, 0x100000, 0x100000, 0x3);
	static uint8_t big[1];
	f->b.plan.initrd = (struct boot_file){"/tmp/big", big, 64 * MiB};
	assert_int_equal(multiboot_check(&f->b.plan, &f->b.m), -ENOSPC);
	f->b.plan.initrd = (struct boot_file){0};
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
