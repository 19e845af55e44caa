// The noVNC test's page script: connects Debian's noVNC (core/rfb.js) straight to ws://host:port
// (query: port, optional password, lossless=1), reports its events to POST /event and posts the
// canvas as a PNG data URL to POST /shot twice a second once connected.
import RFB from '/novnc/core/rfb.js';

const q = new URLSearchParams(location.search);
const port = Number(q.get('port'));
const password = q.get('password');

function post(path, body) {
	return fetch(path, { method: 'POST', body }).catch(() => {});
}

function report(text) {
	return post('/event', text);
}

window.addEventListener('error', (e) => report(`page-error ${e.message}`));
window.addEventListener('unhandledrejection', (e) => report(`page-error ${e.reason}`));

if (q.get('lossless') === '1') {
	// noVNC always asks for a JPEG quality level, and libvncserver's Tight encoding then sends
	// smooth areas as JPEG. Without the quality pseudo-encodings (-32..-23) every encoding is
	// lossless, so the canvas can be compared with the server's pixels exactly.
	const send = RFB.messages.clientEncodings;
	RFB.messages.clientEncodings = (sock, encs) =>
		send(sock, encs.filter((e) => e < -32 || e > -23));
}

const screen = document.getElementById('screen');
const rfb = new RFB(screen, `ws://127.0.0.1:${port}`, { shared: true });
rfb.viewOnly = true;
rfb.scaleViewport = false;
rfb.clipViewport = false;
rfb.resizeSession = false;

let size = '';

async function shots() {
	for (;;) {
		const canvas = screen.querySelector('canvas');
		if (canvas && canvas.width > 0 && canvas.height > 0) {
			const now = `${canvas.width}x${canvas.height}`;
			if (now !== size) {
				size = now;
				await report(`size ${size}`);
			}
			await post('/shot', canvas.toDataURL('image/png'));
		}
		await new Promise((resolve) => setTimeout(resolve, 500));
	}
}

rfb.addEventListener('connect', () => {
	report('connect');
	shots();
});
rfb.addEventListener('disconnect', (e) => report(`disconnect clean=${e.detail.clean}`));
rfb.addEventListener('credentialsrequired', () => {
	report('credentialsrequired');
	if (password !== null)
		rfb.sendCredentials({ password });
});
rfb.addEventListener('securityfailure', (e) =>
	report(`securityfailure status=${e.detail.status} reason=${e.detail.reason || ''}`));
rfb.addEventListener('desktopname', (e) => report(`desktopname ${e.detail.name}`));
report(`page loaded, connecting to ws://127.0.0.1:${port}`);
