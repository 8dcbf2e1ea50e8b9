// Delays refresh_token requests at the backend's token endpoint for a while before oidc-provider
// processes them, so that a test can stop a client while its refresh is in flight. The request
// is processed after the delay even when the client has gone, as a real provider does with a
// request it has received: the refresh token rotates and the response goes nowhere.
//
// Two sources of delay: a delay for every refresh (--token-delay-ms), and a delay armed for the
// next N refreshes through POST /admin/token-delay, which takes precedence while it lasts.
// `state` is what GET /stats reports as `tokenDelay`:
//   everyRefreshMs  the delay of every refresh, 0 for none.
//   armedRequests   how many of the next refreshes get armedDelayMs.
//   armedDelayMs    the armed delay.
//   waiting         refreshes being held right now.
//   delayed         refreshes held so far.

export class TokenDelay {
  constructor(everyRefreshMs) {
    this.state = { everyRefreshMs, armedRequests: 0, armedDelayMs: 0, waiting: 0, delayed: 0 };
  }

  // Delays each of the next `requests` refreshes by `delayMs`.
  arm(delayMs, requests) {
    this.state.armedDelayMs = delayMs;
    this.state.armedRequests = requests;
  }

  // Waits for as long as the current refresh is delayed.
  async hold() {
    let delayMs = this.state.everyRefreshMs;
    if (this.state.armedRequests > 0) {
      this.state.armedRequests -= 1;
      delayMs = this.state.armedDelayMs;
    }
    if (delayMs === 0) return;
    this.state.waiting += 1;
    this.state.delayed += 1;
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    this.state.waiting -= 1;
  }
}
