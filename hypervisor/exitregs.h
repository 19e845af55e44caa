/* The general registers of the vCPU whose port access is being handled, for
 * the few devices whose protocol passes data in registers other than the
 * accumulator (the VMware backdoor at port 0x5658, which vmmouse uses).
 * vCPU threads provide them through KVM_GET/SET_REGS; the device test
 * harness installs a provider of its own. */
#ifndef OSIO_EXITREGS_H
#define OSIO_EXITREGS_H

#include <stdbool.h>
#include <stdint.h>

struct exit_regs {
	uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp;
};

struct exit_regs_provider {
	bool (*get)(void *opaque, struct exit_regs *r);
	bool (*set)(void *opaque, const struct exit_regs *r);
	void *opaque;
};

/* For the current thread (a vCPU thread around an exit, or a test). NULL
 * removes it. */
void exit_regs_provide(const struct exit_regs_provider *p);

/* false when the current thread is not handling a vCPU's exit. A register
 * written with exit_regs_set is what the guest sees after the access; for
 * an IN, the accumulator is the value the access returns, not rax here. */
bool exit_regs_get(struct exit_regs *r);
bool exit_regs_set(const struct exit_regs *r);

#endif
