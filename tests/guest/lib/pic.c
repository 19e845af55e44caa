/* The 8259A interrupt controller pair of the PC (Intel 8259A datasheet:
 * ICW1-ICW4, OCW1 mask, OCW2 EOI, OCW3 register read). */
#include "pic.h"
#include "idt.h"
#include "io.h"
#include "lapic.h"

static u16 mask = 0xffff;

static void write_masks(void)
{
	outb(PIC1_DATA, mask & 0xff);
	outb(PIC2_DATA, mask >> 8);
}

void pic_init(void)
{
	outb(PIC1_CMD, 0x11); /* ICW1: edge, cascade, ICW4 follows */
	outb(PIC2_CMD, 0x11);
	outb(PIC1_DATA, IRQ_VECTOR_BASE); /* ICW2: vector base */
	outb(PIC2_DATA, IRQ_VECTOR_BASE + 8);
	outb(PIC1_DATA, 1 << 2); /* ICW3: slave on IRQ 2 */
	outb(PIC2_DATA, 2);	 /* ICW3: slave id 2 */
	outb(PIC1_DATA, 0x01);	 /* ICW4: 8086 mode, normal EOI */
	outb(PIC2_DATA, 0x01);
	mask = 0xffff & ~(1u << 2);
	write_masks();
	lapic_virtual_wire();
}

void pic_mask(unsigned irq)
{
	if (irq >= 16)
		return;
	mask |= 1u << irq;
	write_masks();
}

void pic_unmask(unsigned irq)
{
	if (irq >= 16)
		return;
	mask &= ~(1u << irq);
	if (irq >= 8)
		mask &= ~(1u << 2);
	write_masks();
}

void pic_eoi(unsigned irq)
{
	if (irq >= 8)
		outb(PIC2_CMD, 0x20);
	outb(PIC1_CMD, 0x20);
}

static u16 read_reg(u8 ocw3)
{
	outb(PIC1_CMD, ocw3);
	outb(PIC2_CMD, ocw3);
	return inb(PIC1_CMD) | (u16)inb(PIC2_CMD) << 8;
}

u16 pic_isr(void)
{
	return read_reg(0x0b);
}

u16 pic_irr(void)
{
	return read_reg(0x0a);
}

bool pic_spurious(unsigned irq)
{
	if (irq != 7 && irq != 15)
		return false;
	if (pic_isr() & (1u << irq))
		return false;
	if (irq == 15)
		outb(PIC1_CMD, 0x20);
	return true;
}
