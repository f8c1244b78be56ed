import { Controller, Get, Request, Route, Security, Tags } from '@tsoa/runtime';
import type { Request as ExpressRequest } from 'express';
import { getOptionalAuth } from '../../express/index.js';

@Route('api')
@Tags('Optional authentication')
export class FeedController extends Controller {
  /**
   * Anyone can call this route. Without an `Authorization` header the caller is anonymous (`user` is null); a token
   * that is sent must be valid (an invalid one is refused, as on every protected route).
   */
  @Get('feed')
  @Security('auth0-optional')
  public getFeed(@Request() request: ExpressRequest): { user: string | null } {
    return { user: getOptionalAuth(request)?.claims.sub ?? null };
  }
}
