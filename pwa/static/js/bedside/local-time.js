// The moment a photo was taken, in the device's local time with its UTC offset
// (2026-05-04T10:15:00+02:00): the form the server's captured_at expects.

function pad(number) {
  return String(Math.abs(Math.trunc(number))).padStart(2, "0");
}

export function localIso(moment) {
  const offset = -moment.getTimezoneOffset();
  return (
    `${moment.getFullYear()}-${pad(moment.getMonth() + 1)}-${pad(moment.getDate())}` +
    `T${pad(moment.getHours())}:${pad(moment.getMinutes())}:${pad(moment.getSeconds())}` +
    `${offset >= 0 ? "+" : "-"}${pad(offset / 60)}:${pad(offset % 60)}`
  );
}
