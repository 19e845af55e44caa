/* Direct kernel boot: file reading, format detection, shared CPU set-up. */
#include "hypervisor/boot/boot.h"

#include "devices/fw_cfg.h"
#include "devices/device.h"
#include "hypervisor/fileio.h"
#include "hypervisor/log.h"
#include "hypervisor/platform.h"

#include "hypervisor/boot/smbios.h"

#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KERNEL_MAX (512 * MiB)

static int read_file(const char *what, const char *path, uint64_t max, struct boot_file *f)
{
	f->path = path;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		log_error("%s %s: %s", what, path, strerror(e));
		return -e;
	}
	struct stat st;
	int r = 0;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		log_error("%s %s: %s", what, path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		log_error("%s %s: not a regular file", what, path);
		goto out;
	}
	if ((uint64_t)st.st_size > max) {
		r = -EFBIG;
		log_error("%s %s is %llu MiB; at most %llu MiB fit this VM", what, path,
			  (unsigned long long)(st.st_size >> 20), (unsigned long long)(max >> 20));
		goto out;
	}
	if (st.st_size == 0) {
		r = -EINVAL;
		log_error("%s %s is empty", what, path);
		goto out;
	}
	f->size = (size_t)st.st_size;
	f->data = malloc(f->size);
	if (!f->data) {
		r = -ENOMEM;
		goto out;
	}
	r = file_pread_all(fd, f->data, f->size, 0);
	if (r < 0) {
		log_error("%s %s: read failed: %s", what, path,
			  r == -ENODATA ? "file shrank while reading" : strerror(-r));
		r = r == -ENODATA ? -EIO : r;
		goto out;
	}
out:
	close(fd);
	if (r < 0) {
		free(f->data);
		f->data = NULL;
		f->size = 0;
	}
	return r;
}

static bool is_elf(const uint8_t *img, size_t size)
{
	return size >= 4 && memcmp(img,
				   "\x7f"
				   "ELF",
				   4) == 0;
}

int boot_prepare(struct boot_plan *b, struct machine *m, const struct vm_spec *spec)
{
	memset(b, 0, sizeof(*b));
	b->append = spec->append;
	b->cpus = spec->cpus;
	int r;
	if (!spec->kernel[0]) {
		log_error(
		    "no kernel to boot: give --kernel FILE or a [boot] kernel in the vmconfig");
		return -EINVAL;
	}
	if ((r = read_file("kernel", spec->kernel, KERNEL_MAX, &b->kernel)) < 0)
		return r;
	if (spec->initrd[0] &&
	    (r = read_file("initrd", spec->initrd, m->ram_below_4g, &b->initrd)) < 0)
		goto fail;

	if (linux_detect(b->kernel.data, b->kernel.size)) {
		b->kind = BOOT_LINUX;
	} else if (multiboot_detect(b->kernel.data, b->kernel.size)) {
		b->kind = BOOT_MULTIBOOT;
	} else {
		r = -ENOEXEC;
		log_error("kernel %s: %s", spec->kernel,
			  is_elf(b->kernel.data, b->kernel.size)
			      ? "an ELF file without a multiboot header; osio boots Linux "
				"bzImages and multiboot kernels"
			      : "not a kernel osio can boot (neither a Linux bzImage nor a "
				"multiboot kernel)");
		goto fail;
	}
	if ((r = e820_build_pc(&b->e820, m)) < 0) {
		log_error("cannot build the memory map: %s", strerror(-r));
		goto fail;
	}
	struct acpi_machine am;
	acpi_machine_describe(&am, m);
	if ((r = acpi_build_pc(&b->acpi, BIOS_AREA_START, &am)) < 0) {
		log_error("cannot build the ACPI tables: %s", strerror(-r));
		goto fail;
	}
	/* SMBIOS in the F segment, where an OS scans for "_SM_". */
	struct smbios_machine sm;
	smbios_describe(&sm, m, spec);
	if ((r = smbios_build(&sm, BOOT_SMBIOS_ADDR + 32, &b->smbios)) < 0) {
		log_error("cannot build the SMBIOS tables: %s", strerror(-r));
		goto fail;
	}
	if (BOOT_SMBIOS_ADDR + 32 + b->smbios.tables_size > BIOS_AREA_END) {
		r = -E2BIG;
		log_error("the SMBIOS tables do not fit the BIOS area");
		goto fail;
	}
	if (b->acpi.size > BOOT_SMBIOS_ADDR - BIOS_AREA_START) {
		r = -E2BIG;
		log_error("the ACPI tables for %u vCPUs do not fit the BIOS area", spec->cpus);
		goto fail;
	}
	r = b->kind == BOOT_LINUX ? linux_check(b, m) : multiboot_check(b, m);
	if (r < 0)
		goto fail;

	if ((r = boot_fw_cfg_e820(m)) < 0)
		goto fail;
	return 0;
fail:
	boot_release(b);
	return r;
}

int boot_fw_cfg_e820(struct machine *m)
{
	void *fw = machine_device(m, "fw_cfg");
	struct e820_table map;
	int r = 0;
	if (fw && ((r = e820_build_firmware(&map, m)) < 0 ||
		   (r = fw_cfg_add_file(fw, "etc/e820", map.e, map.n * sizeof(map.e[0]))) < 0))
		log_error("fw_cfg: cannot add etc/e820: %s", strerror(-r));
	return r;
}

void smbios_describe(struct smbios_machine *sm, const struct machine *m, const struct vm_spec *spec)
{
	static char vendor[13];
	unsigned a = 0, b = 0, c = 0, d = 0;
	memset(sm, 0, sizeof(*sm));
	sm->name = spec->name;
	if (spec->has_uuid) {
		/* SMBIOS 2.6+ stores the first three fields little-endian. */
		memcpy(sm->uuid, spec->uuid, 16);
		for (unsigned i = 0; i < 2; i++) {
			uint8_t t = sm->uuid[i];
			sm->uuid[i] = sm->uuid[3 - i];
			sm->uuid[3 - i] = t;
		}
		uint8_t t = sm->uuid[4];
		sm->uuid[4] = sm->uuid[5];
		sm->uuid[5] = t;
		t = sm->uuid[6];
		sm->uuid[6] = sm->uuid[7];
		sm->uuid[7] = t;
	} else {
		smbios_uuid_from_name(spec->name, sm->uuid);
	}
	sm->cpus = spec->cpus;
	/* The vCPUs report the host's vendor and family (KVM's CPUID). */
	__get_cpuid(0, &a, &b, &c, &d);
	memcpy(vendor, &b, 4);
	memcpy(vendor + 4, &d, 4);
	memcpy(vendor + 8, &c, 4);
	sm->cpu_vendor = vendor;
	__get_cpuid(1, &a, &b, &c, &d);
	sm->cpuid_eax = a;
	sm->cpuid_edx = d;
	sm->ram_below_4g = m->ram_below_4g;
	sm->ram_above_4g = m->ram_above_4g;
}

void boot_release(struct boot_plan *b)
{
	free(b->kernel.data);
	free(b->initrd.data);
	acpi_free(&b->acpi);
	smbios_free(&b->smbios);
	memset(b, 0, sizeof(*b));
}

void boot_flat_segments(struct kvm_sregs *s, bool long_mode)
{
	struct kvm_segment code = {
	    .base = 0,
	    .limit = 0xffffffff,
	    .selector = BOOT_GDT_CODE_SEL,
	    .type = 0xb,
	    .present = 1,
	    .dpl = 0,
	    .db = long_mode ? 0 : 1,
	    .s = 1,
	    .l = long_mode,
	    .g = 1,
	};
	struct kvm_segment data = {
	    .base = 0,
	    .limit = 0xffffffff,
	    .selector = BOOT_GDT_DATA_SEL,
	    .type = 0x3,
	    .present = 1,
	    .dpl = 0,
	    .db = 1,
	    .s = 1,
	    .l = 0,
	    .g = 1,
	};
	s->cs = code;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
}

int boot_write_gdt(struct machine *m, struct kvm_sregs *s, bool long_mode)
{
	const uint64_t gdt[4] = {
	    0, 0, long_mode ? 0x00af9b000000ffffull : 0x00cf9b000000ffffull, /* 0x10 code */
	    0x00cf93000000ffffull,					     /* 0x18 data */
	};
	if (guest_write(&m->mem, BOOT_GDT_ADDR, gdt, sizeof(gdt)) < 0)
		return -EFAULT;
	s->gdt.base = BOOT_GDT_ADDR;
	s->gdt.limit = sizeof(gdt) - 1;
	s->idt.base = 0;
	s->idt.limit = 0;
	return 0;
}

int boot_load(struct boot_plan *b, struct machine *m, struct vcpu *bsp)
{
	if (guest_write(&m->mem, BOOT_SMBIOS_ADDR, b->smbios.anchor, sizeof(b->smbios.anchor)) <
		0 ||
	    guest_write(&m->mem, BOOT_SMBIOS_ADDR + 32, b->smbios.tables, b->smbios.tables_size) <
		0) {
		log_error("cannot write the SMBIOS tables to guest RAM");
		return -EFAULT;
	}
	if (guest_write(&m->mem, b->acpi.base, b->acpi.blob, b->acpi.size) < 0) {
		log_error("cannot write the ACPI tables to guest RAM");
		return -EFAULT;
	}
	struct boot_cpu_state st = {0};
	int r = vcpu_get_sregs(bsp, &st.sregs);
	if (r < 0) {
		log_error("KVM_GET_SREGS failed: %s", strerror(-r));
		return r;
	}
	r = b->kind == BOOT_LINUX ? linux_load(b, m, &st) : multiboot_load(b, m, &st);
	if (r < 0)
		return r;
	return vcpu_set_boot_state(bsp, &st);
}
