// When to try a failed upload again: exponential backoff with jitter. The wait after the n-th
// failure is between half and all of base * 2^(n-1), capped, so that phones which lost the
// Wi-Fi together do not all come back in the same second.

export const BASE_SECONDS = 1;
export const CAP_SECONDS = 30;

export function retryDelayMs(failures, random = Math.random) {
  const exponent = Math.min(Math.max(failures - 1, 0), 16);
  const ceiling = Math.min(CAP_SECONDS, BASE_SECONDS * 2 ** exponent);
  return Math.round(ceiling * (0.5 + random() * 0.5) * 1000);
}
