import { Controller, Get, Request, Response, Route, Security, Tags } from '@tsoa/runtime';
import type { Request as ExpressRequest } from 'express';
import { getAuth } from '../../express/index.js';
import { currentRelay, NOT_CONFIGURED, type ErrorBody } from '../relay.js';

/** The downstream API's JSON answer, relayed. */
export interface RelayBody {
  downstream: unknown;
}

@Route('api')
@Tags('Token exchange')
export class RelayController extends Controller {
  /**
   * Requires the `read:messages` scope. Exchanges the caller's access token for one for the downstream API
   * (RFC 8693 token exchange, with this API's own client) and returns the downstream API's JSON answer.
   * Answers 404 when no downstream API is configured (`DOWNSTREAM_URL`).
   */
  @Get('relay')
  @Security('auth0', ['read:messages'])
  @Response<ErrorBody>(404, 'No downstream API is configured (`not_found`).')
  @Response<ErrorBody>(502, 'The authorization server refused the exchange (`token_exchange_failed`), or the downstream API failed (`bad_gateway`).')
  public async getRelay(@Request() request: ExpressRequest): Promise<RelayBody | ErrorBody> {
    const relay = currentRelay();
    const outcome = relay ? await relay.call(getAuth(request)) : NOT_CONFIGURED;
    this.setStatus(outcome.status);
    return outcome.body;
  }
}
