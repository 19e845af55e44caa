/* The IDT of the guest programs and the C side of interrupt dispatch. */
#include "idt.h"
#include "pic.h"
#include "segments.h"
#include "test.h"
#include "uart.h"

struct idt_gate {
	u16 offset_lo, selector;
	u8 zero, type;
	u16 offset_hi;
} __attribute__((packed));

extern const u32 isr_stub_table[256];

static struct idt_gate idt[256] __attribute__((aligned(8)));
static vector_handler vector_handlers[256];
static irq_handler irq_handlers[16];
volatile u32 unexpected_interrupts;

void idt_load(void)
{
	struct {
		u16 limit;
		u32 base;
	} __attribute__((packed)) desc = {sizeof(idt) - 1, (u32)(uintptr_t)idt};

	__asm__ volatile("lidt %0" : : "m"(desc));
}

void idt_init(void)
{
	for (unsigned v = 0; v < 256; v++) {
		idt[v].offset_lo = isr_stub_table[v] & 0xffff;
		idt[v].offset_hi = isr_stub_table[v] >> 16;
		idt[v].selector = SEG_CODE;
		idt[v].zero = 0;
		idt[v].type = 0x8e; /* present, ring 0, 32-bit interrupt gate */
	}
	idt_load();
}

void idt_set_handler(unsigned vector, vector_handler fn)
{
	if (vector < 256)
		vector_handlers[vector] = fn;
}

void irq_set_handler(unsigned irq, irq_handler fn)
{
	if (irq < 16)
		irq_handlers[irq] = fn;
}

static void exception(struct isr_frame *f)
{
	printf("FAIL: CPU exception %u (error code 0x%x) at eip 0x%x\n", f->vector, f->error,
	       f->eip);
	test_abort();
}

void isr_dispatch(struct isr_frame *f)
{
	unsigned v = f->vector;

	if (vector_handlers[v]) {
		vector_handlers[v](f);
		return;
	}
	if (v < 32) {
		exception(f);
		return;
	}
	if (v >= IRQ_VECTOR_BASE && v < IRQ_VECTOR_BASE + 16) {
		unsigned irq = v - IRQ_VECTOR_BASE;

		if (pic_spurious(irq))
			return;
		if (irq_handlers[irq])
			irq_handlers[irq](irq);
		else
			unexpected_interrupts++;
		pic_eoi(irq);
		return;
	}
	if (v != SPURIOUS_VECTOR)
		unexpected_interrupts++;
}
