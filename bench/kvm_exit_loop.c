/* The benchmark's floor: a bare KVM_RUN loop, no device model, no threads.
 * It runs the same kind of guest loop as bench/guest/exitloop.S (n writes
 * to port 0x80, then one to 0xf4) in flat 32-bit protected mode, with the
 * same in-kernel irqchip and PIT osio creates, and handles each exit with
 * nothing but a port comparison. Usage: kvm_exit_loop N */
#include <err.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

int main(int argc, char **argv)
{
	if (argc != 2)
		errx(2, "usage: kvm_exit_loop N");
	uint32_t n = (uint32_t)strtoul(argv[1], NULL, 0);
	int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm < 0)
		err(1, "/dev/kvm");
	int vm = ioctl(kvm, KVM_CREATE_VM, 0);
	uint64_t idmap = 0xfffbc000;
	if (vm < 0 || ioctl(vm, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0 ||
	    ioctl(vm, KVM_SET_TSS_ADDR, 0xfffbd000ul) < 0 || ioctl(vm, KVM_CREATE_IRQCHIP, 0) < 0)
		err(1, "creating the VM");
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };
	if (ioctl(vm, KVM_CREATE_PIT2, &pit) < 0)
		err(1, "KVM_CREATE_PIT2");
	size_t memsz = 2 << 20;
	uint8_t *mem = mmap(NULL, memsz, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	struct kvm_userspace_memory_region slot = {
		.memory_size = memsz, .userspace_addr = (uintptr_t)mem
	};
	if (mem == MAP_FAILED || ioctl(vm, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
		err(1, "guest memory");
	/* mov ecx, n; mov al, 0x55; test ecx, ecx; jz done;
	 * 1: out 0x80, al; dec ecx; jnz 1b; done: xor eax, eax; out 0xf4, al; hlt */
	uint8_t code[] = { 0xb9, 0,    0,	 0,    0,    0xb0, 0x55, 0x85, 0xc9, 0x74,
			   0x05, 0xe6, 0x80, 0x49, 0x75, 0xfb, 0x31, 0xc0, 0xe6, 0xf4, 0xf4 };
	memcpy(code + 1, &n, 4);
	memcpy(mem + 0x100000, code, sizeof(code));

	int vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
	int runsz = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	struct kvm_run *run = mmap(NULL, (size_t)runsz, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
	if (vcpu < 0 || run == MAP_FAILED)
		err(1, "vCPU");
	struct kvm_sregs s;
	if (ioctl(vcpu, KVM_GET_SREGS, &s) < 0)
		err(1, "KVM_GET_SREGS");
	struct kvm_segment code_seg = { .limit = 0xffffffff, .selector = 0x10, .type = 11,
					.present = 1, .db = 1, .s = 1, .g = 1 };
	struct kvm_segment data_seg = code_seg;
	data_seg.selector = 0x18;
	data_seg.type = 3;
	s.cs = code_seg;
	s.ds = s.es = s.fs = s.gs = s.ss = data_seg;
	s.cr0 = 0x11;
	struct kvm_regs r = { .rip = 0x100000, .rflags = 2 };
	if (ioctl(vcpu, KVM_SET_SREGS, &s) < 0 || ioctl(vcpu, KVM_SET_REGS, &r) < 0)
		err(1, "registers");
	for (;;) {
		if (ioctl(vcpu, KVM_RUN, 0) < 0)
			err(1, "KVM_RUN");
		if (run->exit_reason != KVM_EXIT_IO)
			errx(1, "unexpected exit %u", run->exit_reason);
		if (run->io.port == 0xf4)
			return *((uint8_t *)run + run->io.data_offset);
	}
}
