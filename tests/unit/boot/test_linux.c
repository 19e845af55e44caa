/* The Linux boot protocol loader against a bzImage built in the test:
 * placement, the zero page a kernel reads, entry state, refusals. */
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

#define SETUP_SECTS 4
#define PAYLOAD	    0x10000

struct fixture {
	struct boot_machine b;
	uint8_t image[(SETUP_SECTS + 1) * 512 + PAYLOAD];
	uint8_t initrd[300000];
};

static void make_bzimage(struct fixture *f, uint16_t version, bool kernel64)
{
	uint8_t *img = f->image;
	memset(img, 0, sizeof(f->image));
	img[0x1f1] = SETUP_SECTS;
	put_le16(img + 0x1fe, 0xaa55);
	img[0x200] = 0xeb;
	img[0x201] = 0x6a; /* header ends at 0x26c */
	memcpy(img + 0x202, "HdrS", 4);
	put_le16(img + 0x206, version);
	img[0x211] = 0x01; /* LOADED_HIGH */
	put_le32(img + 0x214, 0x100000);
	put_le32(img + 0x22c, 0x7fffffff);
	put_le32(img + 0x230, 0x200000);
	img[0x234] = 1;
	put_le16(img + 0x236, kernel64 ? 0x1 : 0);
	put_le32(img + 0x238, 2047);
	put_le64(img + 0x258, 0x1000000);
	put_le32(img + 0x260, 0x400000);
	for (size_t i = 0; i < PAYLOAD; i++)
		img[(SETUP_SECTS + 1) * 512 + i] = (uint8_t)(i * 13 + 1);
	f->b.plan.kernel.data = img;
	f->b.plan.kernel.size = sizeof(f->image);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	boot_machine_init(&f->b, 256 * MiB, BOOT_LINUX, "/tmp/bzImage",
			  "console=ttyS0 root=/dev/ram0", 2);
	for (size_t i = 0; i < sizeof(f->initrd); i++)
		f->initrd[i] = (uint8_t)(i >> 3);
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

static void test_64bit_entry(void **state)
{
	struct fixture *f = *state;
	make_bzimage(f, 0x020f, true);
	f->b.plan.initrd = (struct boot_file){"/tmp/initrd", f->initrd, sizeof(f->initrd)};
	assert_true(linux_detect(f->image, sizeof(f->image)));
	assert_int_equal(linux_check(&f->b.plan, &f->b.m), 0);
	struct boot_cpu_state st = {0};
	assert_int_equal(linux_load(&f->b.plan, &f->b.m, &st), 0);

	/* Relocatable: loaded at its preferred address. */
	assert_memory_equal(gpa_to_hva(&f->b.m.mem, 0x1000000, PAYLOAD),
			    f->image + (SETUP_SECTS + 1) * 512, PAYLOAD);
	assert_int_equal(st.regs.rip, 0x1000200);
	assert_int_equal(st.regs.rsi, BOOT_ZERO_PAGE_ADDR);
	assert_int_equal(st.sregs.efer & 0x500, 0x500);
	assert_int_equal(st.sregs.cr0 & 0x80000001, 0x80000001);
	assert_int_equal(st.sregs.cr4 & 0x20, 0x20);
	assert_int_equal(st.sregs.cs.l, 1);
	assert_int_equal(st.sregs.cs.selector, 0x10);
	assert_int_equal(st.sregs.ds.selector, 0x18);
	/* The identity map covers the kernel, the zero page and the initrd. */
	const uint64_t *pml4 = gpa_to_hva(&f->b.m.mem, st.sregs.cr3, 4096);
	assert_int_equal(pml4[0] & ~0xfffull, BOOT_PDPT_ADDR);
	const uint64_t *pd = gpa_to_hva(&f->b.m.mem, BOOT_PD_ADDR, 4096);
	assert_int_equal(pd[8] & ~0xfffull, 0x1000000);
	assert_true(pd[8] & 0x80);

	const uint8_t *zp = gpa_to_hva(&f->b.m.mem, BOOT_ZERO_PAGE_ADDR, 4096);
	assert_memory_equal(zp + 0x202, "HdrS", 4);
	assert_int_equal(zp[0x210], 0xff); /* type_of_loader */
	assert_int_equal(zp[0x211] & 0x81, 0x81);
	const char *cmd = gpa_to_hva(&f->b.m.mem, get_le32(zp + 0x228), 1);
	assert_string_equal(cmd, "console=ttyS0 root=/dev/ram0");
	uint32_t rd_addr = get_le32(zp + 0x218), rd_size = get_le32(zp + 0x21c);
	assert_int_equal(rd_size, sizeof(f->initrd));
	assert_int_equal(rd_addr % 4096, 0);
	assert_true(rd_addr >= 0x1000000 + 0x400000);
	assert_true(rd_addr + rd_size <= 256 * MiB);
	assert_memory_equal(gpa_to_hva(&f->b.m.mem, rd_addr, rd_size), f->initrd, rd_size);
	assert_int_equal(zp[0x1e8], f->b.plan.e820.n);
	assert_memory_equal(zp + 0x2d0, f->b.plan.e820.e, f->b.plan.e820.n * 20);
	uint64_t rsdp;
	memcpy(&rsdp, zp + 0x70, 8);
	assert_int_equal(rsdp, f->b.plan.acpi.rsdp);
	/* Nothing of the setup code leaks into the zero page. */
	for (int i = 0; i < 0x1e8; i++)
		if (i < 0x70 || i >= 0x78)
			assert_int_equal(zp[i], 0);
}

static void test_32bit_entry(void **state)
{
	struct fixture *f = *state;
	make_bzimage(f, 0x020b, false);
	struct boot_cpu_state st = {0};
	assert_int_equal(linux_check(&f->b.plan, &f->b.m), 0);
	assert_int_equal(linux_load(&f->b.plan, &f->b.m, &st), 0);
	assert_int_equal(st.regs.rip, 0x1000000);
	assert_int_equal(st.sregs.cr0 & 0x80000001, 1);
	assert_int_equal(st.sregs.efer, 0);
	assert_int_equal(st.sregs.cs.db, 1);
	const uint8_t *zp = gpa_to_hva(&f->b.m.mem, BOOT_ZERO_PAGE_ADDR, 4096);
	assert_int_equal(get_le32(zp + 0x214), 0x1000000); /* code32_start */
	assert_int_equal(get_le32(zp + 0x218), 0);
	/* Protocol 2.11 has no acpi_rsdp_addr field. */
	assert_int_equal(get_le32(zp + 0x70), 0);
}

static void test_refusals(void **state)
{
	struct fixture *f = *state;
	make_bzimage(f, 0x0205, true);
	assert_int_equal(linux_check(&f->b.plan, &f->b.m), -ENOTSUP);
	make_bzimage(f, 0x020f, true);
	f->image[0x211] = 0; /* zImage */
	assert_int_equal(linux_check(&f->b.plan, &f->b.m), -ENOTSUP);
	make_bzimage(f, 0x020f, true);
	static char longline[3000];
	memset(longline, 'x', sizeof(longline) - 1);
	f->b.plan.append = longline;
	assert_int_equal(linux_check(&f->b.plan, &f->b.m), -E2BIG);
	f->b.plan.append = "";
	static uint8_t dummy[1];
	f->b.plan.initrd = (struct boot_file){"/tmp/huge", dummy, 250 * MiB};
	assert_int_equal(linux_check(&f->b.plan, &f->b.m), -ENOSPC);
	f->b.plan.initrd = (struct boot_file){0};
	/* A kernel that needs more RAM than the VM has. */
	put_le32(f->image + 0x260, 300 * MiB);
	assert_int_equal(linux_check(&f->b.plan, &f->b.m), -ENOSPC);
	/* Setup sectors past the end of the file. */
	make_bzimage(f, 0x020f, true);
	f->image[0x1f1] = 200;
	assert_int_equal(linux_check(&f->b.plan, &f->b.m), -ENOEXEC);
	assert_false(linux_detect((const uint8_t *)"MZ", 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_64bit_entry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_32bit_entry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refusals, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
