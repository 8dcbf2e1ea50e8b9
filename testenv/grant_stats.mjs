// Per-grant counters of the backend's token endpoint and API, which GET /stats returns under
// `grants`, so that a test can count token-endpoint calls per refresh token rotation and measure
// how stale the access tokens that reach the API are.
//
// A grant is one sign-in: the code exchange starts it, and every refresh token descends from it.
// The tracking here is by token value and does not depend on oidc-provider's internal state,
// which deletes a refresh token once its reuse has revoked the grant.
//
// For each grant, keyed by oidc-provider's grant id:
//   accountId        the signed-in user.
//   refreshCalls     refresh_token requests that presented one of the grant's refresh tokens.
//   rotations        those that returned a new refresh token.
//   reuseRejections  those rejected because the presented refresh token had already been
//                    rotated away (consumed) by an earlier successful refresh.
//   refreshErrors    every rejected refresh_token request, reuse rejections included.
//   accessTokens     [{issuedAtMs, grantType}], in issue order: when the token endpoint returned
//                    each access token of the grant (Unix milliseconds, this server's clock).
//   apiRequests      API requests authorized with one of the grant's access tokens.
//   supersededRequests  those whose access token had a newer one of the same grant already
//                    issued when the request arrived.
//   maxStalenessMs   the largest staleness of an API request: its arrival time minus the issue
//                    time of the access token that superseded the one it carried; 0 when every
//                    request carried the newest token.
//   stalest          up to kStalestKept of the stalest requests, stalest first, as
//                    {receivedAtMs, tokenIndex, supersededAtMs, stalenessMs}.

const kStalestKept = 10;

export class GrantStats {
  // `grants` is the object that GET /stats reports; this class fills it.
  constructor(grants) {
    this.grants = grants;
    // Token value -> {grantId, index} for access tokens, {grantId, consumed} for refresh tokens.
    this.accessTokens = new Map();
    this.refreshTokens = new Map();
  }

  // Records a successful token response of `grantType` for `grantId` at `nowMs`. For a refresh,
  // `presentedRefreshToken` is the refresh token in the request.
  recordIssued({ grantId, accountId, grantType, accessToken, refreshToken, presentedRefreshToken, nowMs }) {
    const grant = this.grant(grantId, accountId);
    grant.accessTokens.push({ issuedAtMs: nowMs, grantType });
    this.accessTokens.set(accessToken, { grantId, index: grant.accessTokens.length - 1 });
    if (refreshToken !== undefined && !this.refreshTokens.has(refreshToken)) {
      this.refreshTokens.set(refreshToken, { grantId, consumed: false });
    }
    if (grantType !== 'refresh_token') return;

    grant.refreshCalls += 1;
    if (refreshToken !== undefined && refreshToken !== presentedRefreshToken) {
      grant.rotations += 1;
      const presented = this.refreshTokens.get(presentedRefreshToken);
      if (presented !== undefined) presented.consumed = true;
    }
  }

  // Records a rejected refresh_token request that presented `presentedRefreshToken`. Tokens
  // that this server never issued are counted under the grant id "(unknown)". Returns true when
  // the rejection was a reuse.
  recordRefreshRejected(presentedRefreshToken) {
    const known = this.refreshTokens.get(presentedRefreshToken);
    const grant = this.grant(known?.grantId ?? '(unknown)');
    grant.refreshCalls += 1;
    grant.refreshErrors += 1;
    if (known?.consumed) grant.reuseRejections += 1;
    return known?.consumed === true;
  }

  // Records an API request authorized with `accessToken`, received at `nowMs`.
  recordApiRequest(accessToken, nowMs) {
    const known = this.accessTokens.get(accessToken);
    if (known === undefined) return;
    const grant = this.grants[known.grantId];
    grant.apiRequests += 1;

    const successor = grant.accessTokens[known.index + 1];
    if (successor === undefined || successor.issuedAtMs > nowMs) return;
    const stalenessMs = nowMs - successor.issuedAtMs;
    grant.supersededRequests += 1;
    grant.maxStalenessMs = Math.max(grant.maxStalenessMs, stalenessMs);
    grant.stalest.push({
      receivedAtMs: nowMs,
      tokenIndex: known.index,
      supersededAtMs: successor.issuedAtMs,
      stalenessMs,
    });
    grant.stalest.sort((a, b) => b.stalenessMs - a.stalenessMs);
    grant.stalest.length = Math.min(grant.stalest.length, kStalestKept);
  }

  grant(grantId, accountId) {
    let grant = this.grants[grantId];
    if (grant === undefined) {
      grant = {
        accountId,
        refreshCalls: 0,
        rotations: 0,
        reuseRejections: 0,
        refreshErrors: 0,
        accessTokens: [],
        apiRequests: 0,
        supersededRequests: 0,
        maxStalenessMs: 0,
        stalest: [],
      };
      this.grants[grantId] = grant;
    }
    if (grant.accountId === undefined && accountId !== undefined) grant.accountId = accountId;
    return grant;
  }
}
