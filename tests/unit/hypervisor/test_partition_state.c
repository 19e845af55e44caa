/* Saved state with a real KVM: two vCPUs run a counting loop in RAM that
 * reads a port and reports on another; saved, torn down and built anew, the
 * VM goes on counting from where it stopped, with the same registers, MSRs
 * and clock. Files saved with other settings are refused. Exits 77 (skip)
 * without /dev/kvm. */
#include "hypervisor/kvm.h"
#include "hypervisor/machine.h"
#include "hypervisor/partition.h"
#include "hypervisor/savevm.h"
#include "hypervisor/vmstate.h"
#include "hypervisor/vp.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define RAM		  (4ull << 20)
#define CODE		  0x100000ull
#define PORT0		  0x510
#define STEP		  0x10
#define MSR_LSTAR	  0xc0000082
#define MSR_MTRR_DEF_TYPE 0x2ff

/* Where each vCPU keeps its count: in ordinary RAM and in the shadow RAM
 * at 0xC0000-0xFFFFF, so that both are in the saved image. */
static const uint64_t counter_at[2] = {0x200000, 0xc8000};

/* What a vCPU reported: each value must be the one before plus one, across
 * the save and restore too. */
struct report {
	atomic_uint_fast64_t reads;
	atomic_uint_fast64_t writes;
	atomic_uint_fast64_t last;
	atomic_uint errors;
	atomic_bool seen;
};
static struct report reports[2];

static uint64_t port_read(void *opaque, uint64_t offset, unsigned size)
{
	struct report *r = opaque;
	atomic_fetch_add(&r->reads, 1);
	return 1; /* what the guest adds to its count */
}

static void port_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
	struct report *r = opaque;
	if (atomic_load(&r->seen) && value != atomic_load(&r->last) + 1)
		atomic_fetch_add(&r->errors, 1);
	atomic_store(&r->last, value);
	atomic_store(&r->seen, true);
	atomic_fetch_add(&r->writes, 1);
}

static const struct bus_ops port_ops = {port_read, port_write};

static struct kvm_host host;
static char dir[64];

struct vm {
	struct machine m;
	struct partition p;
};

static void vm_new(struct vm *vm, unsigned cpus, uint64_t ram)
{
	assert_int_equal(machine_init(&vm->m), 0);
	assert_int_equal(machine_alloc_ram(&vm->m, ram, false), 0);
	vm->m.cpus = cpus;
	for (unsigned i = 0; i < 2; i++)
		assert_int_equal(
		    bus_register(vm->m.pio, PORT0 + i * STEP, 4, &port_ops, &reports[i], "counter"),
		    0);
	assert_int_equal(partition_create(&vm->p, &host, &vm->m, cpus), 0);
}

static void vm_free(struct vm *vm)
{
	partition_destroy(&vm->p);
	machine_free_ram(&vm->m);
	machine_destroy(&vm->m);
}

/* 1: in eax, dx; add [esi], eax; inc ebx; mov eax, [esi]; out dx, eax; jmp 1b */
static const uint8_t loop[] = {0xed, 0x01, 0x06, 0x43, 0x8b, 0x06, 0xef, 0xeb, 0xf7};

static void boot(struct vm *vm)
{
	memcpy(vm->m.ram_low + CODE, loop, sizeof(loop));
	for (unsigned i = 0; i < vm->p.nvcpus; i++) {
		struct vcpu *v = vm->p.vcpus[i];
		struct boot_cpu_state s = {0};
		assert_int_equal(vcpu_get_sregs(v, &s.sregs), 0);
		struct kvm_segment code = {.limit = 0xffffffff,
					   .selector = 0x10,
					   .type = 11,
					   .present = 1,
					   .db = 1,
					   .s = 1,
					   .g = 1};
		struct kvm_segment data = code;
		data.selector = 0x18;
		data.type = 3;
		s.sregs.cs = code;
		s.sregs.ds = s.sregs.es = s.sregs.fs = s.sregs.gs = s.sregs.ss = data;
		s.sregs.cr0 = 0x11;
		s.regs = (struct kvm_regs){
		    .rip = CODE, .rflags = 2, .rsi = counter_at[i], .rdx = PORT0 + i * STEP};
		assert_int_equal(vcpu_set_boot_state(v, &s), 0);
		struct kvm_mp_state mp = {.mp_state = KVM_MP_STATE_RUNNABLE};
		assert_int_equal(ioctl(v->fd, KVM_SET_MP_STATE, &mp), 0);
	}
}

/* Runs the vCPUs until each has reported `more` more values. */
static void run_for(struct vm *vm, uint64_t more)
{
	uint64_t want[2];
	for (unsigned i = 0; i < 2; i++)
		want[i] = atomic_load(&reports[i].writes) + (i < vm->p.nvcpus ? more : 0);
	assert_int_equal(partition_start(&vm->p), 0);
	for (int t = 0; t < 3000; t++) {
		if (atomic_load(&reports[0].writes) >= want[0] &&
		    atomic_load(&reports[1].writes) >= want[1])
			break;
		usleep(10000);
	}
	partition_stop(&vm->p);
	assert_true(atomic_load(&reports[0].writes) >= want[0]);
	assert_true(atomic_load(&reports[1].writes) >= want[1]);
}

static uint64_t get_msr(struct vcpu *v, uint32_t index)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = {.h.nmsrs = 1, .e.index = index};
	assert_int_equal(ioctl(v->fd, KVM_GET_MSRS, &m), 1);
	return m.e.data;
}

static void set_msr(struct vcpu *v, uint32_t index, uint64_t value)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} m = {.h.nmsrs = 1, .e.index = index, .e.data = value};
	assert_int_equal(ioctl(v->fd, KVM_SET_MSRS, &m), 1);
}

/* Every IN the device answered went into the count exactly once: a vCPU
 * stopped between its IN and the ADD has the 1 in eax, and one read more
 * than the count. An IN left half done (read by the device, result not in
 * eax) would be read again when the vCPU goes on. */
static void check_reads(struct vm *vm, unsigned i)
{
	struct kvm_regs r;
	uint32_t count;
	assert_int_equal(ioctl(vm->p.vcpus[i]->fd, KVM_GET_REGS, &r), 0);
	memcpy(&count, vm->m.ram_low + counter_at[i], 4);
	uint64_t reads = atomic_load(&reports[i].reads);
	if (r.rip == CODE + 1) {
		assert_int_equal((uint32_t)r.rax, 1);
		assert_int_equal(reads, (uint64_t)count + 1);
	} else {
		assert_int_equal(reads, count);
	}
}

static uint64_t kvm_clock(struct partition *p)
{
	struct kvm_clock_data c = {0};
	assert_int_equal(ioctl(p->vm_fd, KVM_GET_CLOCK, &c), 0);
	return c.clock;
}

static void test_save_restore_goes_on(void **state)
{
	char path[128], err[512];
	snprintf(path, sizeof(path), "%s/two.vmstate", dir);
	memset(reports, 0, sizeof(reports));

	struct vm *a = calloc(1, sizeof(*a));
	vm_new(a, 2, RAM);
	boot(a);
	/* Values a fresh vCPU does not have, to see them come back. */
	set_msr(a->p.vcpus[0], MSR_LSTAR, 0xffffffff81234560ull);
	set_msr(a->p.vcpus[1], MSR_MTRR_DEF_TYPE, 0xc06);
	run_for(a, 300);
	usleep(200000); /* the clock runs on while stopped until saved */

	struct kvm_regs regs[2];
	struct kvm_sregs sregs[2];
	uint32_t count[2];
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(ioctl(a->p.vcpus[i]->fd, KVM_GET_REGS, &regs[i]), 0);
		assert_int_equal(ioctl(a->p.vcpus[i]->fd, KVM_GET_SREGS, &sregs[i]), 0);
	}
	uint64_t clock = kvm_clock(&a->p);
	assert_true(clock > 200000000ull);
	int w = savevm_write_vm(&a->p, "two", path, err, sizeof(err));
	if (w < 0)
		print_error("%s\n", err);
	assert_int_equal(w, 0);
	/* Saving finished the vCPUs' last instructions (an IN, an OUT): read
	 * the registers again now. */
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(ioctl(a->p.vcpus[i]->fd, KVM_GET_REGS, &regs[i]), 0);
		memcpy(&count[i], a->m.ram_low + counter_at[i], 4);
		/* The loop keeps ebx one behind... or level with the count. */
		assert_true(count[i] - (uint32_t)regs[i].rbx <= 1);
		assert_true(count[i] >= 300);
		check_reads(a, i);
	}
	vm_free(a);
	memset(a, 0, sizeof(*a));

	struct savevm_info info;
	assert_int_equal(savevm_probe(path, &info, err, sizeof(err)), 0);
	assert_int_equal(info.cpus, 2);
	assert_int_equal(info.memory, RAM);
	assert_string_equal(info.vm_name, "two");
	assert_true(info.saved_at >= (uint64_t)time(NULL) - 60);
	assert_true(info.file_size > 0 && info.file_size < RAM / 2); /* zero pages are holes */

	vm_new(a, 2, RAM);
	int rd = savevm_read(&a->p, path, err, sizeof(err));
	if (rd < 0)
		print_error("%s\n", err);
	assert_int_equal(rd, 0);
	for (unsigned i = 0; i < 2; i++) {
		struct kvm_regs r;
		struct kvm_sregs s;
		uint32_t c;
		assert_int_equal(ioctl(a->p.vcpus[i]->fd, KVM_GET_REGS, &r), 0);
		assert_int_equal(ioctl(a->p.vcpus[i]->fd, KVM_GET_SREGS, &s), 0);
		assert_memory_equal(&r, &regs[i], sizeof(r));
		assert_memory_equal(&s.cs, &sregs[i].cs, sizeof(s.cs));
		assert_memory_equal(&s.ss, &sregs[i].ss, sizeof(s.ss));
		assert_true(s.cr0 == sregs[i].cr0 && s.efer == sregs[i].efer &&
			    s.apic_base == sregs[i].apic_base);
		memcpy(&c, a->m.ram_low + counter_at[i], 4);
		assert_int_equal(c, count[i]);
	}
	assert_int_equal(get_msr(a->p.vcpus[0], MSR_LSTAR), 0xffffffff81234560ull);
	assert_int_equal(get_msr(a->p.vcpus[1], MSR_MTRR_DEF_TYPE), 0xc06);
	uint64_t now = kvm_clock(&a->p);
	assert_true(now >= clock && now < clock + 100000000ull);
	assert_true(memcmp(a->m.ram_low + CODE, loop, sizeof(loop)) == 0);

	/* It goes on: the next value each vCPU reports is the one after the
	 * last before the save (port_write counts any other as an error). */
	uint64_t before[2] = {atomic_load(&reports[0].writes), atomic_load(&reports[1].writes)};
	run_for(a, 300);
	for (unsigned i = 0; i < 2; i++) {
		assert_int_equal(atomic_load(&reports[i].errors), 0);
		assert_true(atomic_load(&reports[i].writes) >= before[i] + 300);
		assert_true(atomic_load(&reports[i].last) >= count[i] + 300);
	}
	/* Saved again (over the first file): the second run's last IN is
	 * finished as well. */
	assert_int_equal(savevm_write(&a->p, path, err, sizeof(err)), 0);
	for (unsigned i = 0; i < 2; i++)
		check_reads(a, i);
	vm_free(a);
	free(a);
}

/* Stopped at random points, half of them right after an IN exit: saving
 * must leave every IN finished, never to be read again. */
static void test_last_exit_finished(void **state)
{
	memset(reports, 0, sizeof(reports));
	struct vm *a = calloc(1, sizeof(*a));
	vm_new(a, 2, RAM);
	boot(a);
	char err[256];
	for (int round = 0; round < 10; round++) {
		run_for(a, 5);
		struct vmstate_out out;
		vmstate_out_init(&out);
		assert_int_equal(partition_save_state(&a->p, &out, err, sizeof(err)), 0);
		vmstate_out_free(&out);
		for (unsigned i = 0; i < 2; i++)
			check_reads(a, i);
	}
	vm_free(a);
	free(a);
}

/* The state blob's offset, length and CRC fields (savevm_file.h). */
#define H_STATE_CRC 168
#define H_CRC	    176

/* A copy of the saved state at path (as path.bad) with `len` bytes at `at`
 * in the first field called `field` changed (at = SIZE_MAX: the value of
 * the MSR record {u32 index, u32 0, u64 value} whose index is `find`),
 * checksums made right. */
static void make_patched(const char *path, const char *field, size_t at, uint32_t find,
			 const void *bytes, size_t len, char *bad, size_t badlen)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	size_t size = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	uint8_t *buf = malloc(size);
	assert_int_equal(fread(buf, 1, size, f), size);
	fclose(f);
	uint64_t state_len;
	memcpy(&state_len, buf + 128, 8);
	uint8_t *st = buf + 4096, *hit = NULL;
	uint32_t hit_len = 0;
	size_t nlen = strlen(field);
	for (size_t i = 0; i + 2 + nlen + 4 <= state_len && !hit; i++)
		if (st[i] == nlen && st[i + 1] == 0 && memcmp(st + i + 2, field, nlen) == 0) {
			memcpy(&hit_len, st + i + 2 + nlen, 4);
			hit = st + i + 2 + nlen + 4;
		}
	assert_non_null(hit);
	for (size_t i = 0; at == SIZE_MAX && i + 16 <= hit_len; i += 16)
		if (memcmp(hit + i, &find, 4) == 0)
			at = i + 8;
	assert_true(at != SIZE_MAX && at + len <= hit_len);
	memcpy(hit + at, bytes, len);
	uint32_t c = (uint32_t)crc32(0, st, (uInt)state_len);
	memcpy(buf + H_STATE_CRC, &c, 4);
	memset(buf + H_CRC, 0, 4);
	c = (uint32_t)crc32(0, buf, 4096);
	memcpy(buf + H_CRC, &c, 4);
	snprintf(bad, badlen, "%s.bad", path);
	f = fopen(bad, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, size, f), size);
	fclose(f);
	free(buf);
}

/* Loading a patched copy fails with `says` in the message. */
static void expect_patched_refused(struct vm *a, const char *path, const char *field, size_t at,
				   const void *bytes, size_t len, const char *says)
{
	char bad[160], err[512] = "";
	make_patched(path, field, at, 0, bytes, len, bad, sizeof(bad));
	memset(a, 0, sizeof(*a));
	vm_new(a, 2, RAM);
	assert_int_equal(savevm_read(&a->p, bad, err, sizeof(err)), -EINVAL);
	if (!strstr(err, says))
		print_error("%s\n", err);
	assert_non_null(strstr(err, says));
	assert_non_null(strstr(err, bad));
	vm_free(a);
}

static void test_other_settings_refused(void **state)
{
	char path[128], err[512];
	snprintf(path, sizeof(path), "%s/refused.vmstate", dir);
	memset(reports, 0, sizeof(reports));
	struct vm *a = calloc(1, sizeof(*a));
	vm_new(a, 2, RAM);
	boot(a);
	run_for(a, 20);
	assert_int_equal(savevm_write(&a->p, path, err, sizeof(err)), 0);
	vm_free(a);

	memset(a, 0, sizeof(*a));
	vm_new(a, 1, RAM);
	err[0] = 0;
	assert_int_equal(savevm_read(&a->p, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "2 vCPUs"));
	assert_non_null(strstr(err, path));
	vm_free(a);

	memset(a, 0, sizeof(*a));
	vm_new(a, 2, 2 * RAM);
	err[0] = 0;
	assert_int_equal(savevm_read(&a->p, path, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "4 MiB of memory"));
	vm_free(a);

	/* Files made by hand from the real one, checksums right: values KVM
	 * must not be handed are refused, naming what is wrong. */
	uint32_t bad_msr = 0xdeadbeef, bad_mp = 7;
	uint64_t bad_ioapic = 0xfed00000;
	expect_patched_refused(a, path, "msrs", 0, &bad_msr, 4, "MSR 0xdeadbeef");
	expect_patched_refused(a, path, "mp-state", 0, &bad_mp, 4, "mp-state");
	expect_patched_refused(a, path, "ioapic", 0, &bad_ioapic, 8, "IOAPIC");
	uint32_t every_feature[5] = {~0u, ~0u, ~0u, ~0u, ~0u};
	expect_patched_refused(a, path, "cpuid-features", 0, every_feature, sizeof(every_feature),
			       "features this one lacks");

	/* An MSR value KVM refuses (LSTAR not canonical): skipped, the rest
	 * loads, and the register keeps this host's value. */
	char bad[160];
	uint64_t noncanonical = 0x8000000000000000ull;
	make_patched(path, "msrs", SIZE_MAX, MSR_LSTAR, &noncanonical, 8, bad, sizeof(bad));
	memset(a, 0, sizeof(*a));
	vm_new(a, 2, RAM);
	uint64_t fresh = get_msr(a->p.vcpus[0], MSR_LSTAR);
	assert_int_equal(savevm_read(&a->p, bad, err, sizeof(err)), 0);
	assert_int_equal(get_msr(a->p.vcpus[0], MSR_LSTAR), fresh);
	vm_free(a);
	free(a);
}

int main(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		printf("SKIP: /dev/kvm: %s\n", strerror(errno));
		return 77;
	}
	close(fd);
	if (kvm_host_open(&host) < 0) {
		printf("SKIP: KVM cannot be used here\n");
		return 77;
	}
	snprintf(dir, sizeof(dir), "/tmp/osio-partition-state-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_save_restore_goes_on),
	    cmocka_unit_test(test_last_exit_finished),
	    cmocka_unit_test(test_other_settings_refused),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		r = r ? r : 1;
	kvm_host_close(&host);
	return r;
}
