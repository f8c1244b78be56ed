import { Body, Controller, Get, Post, Request, RequestProp, Route, Security, SuccessResponse, Tags } from '@tsoa/runtime';
import type { Request as ExpressRequest } from 'express';
import { getAuth } from '../../express/index.js';

/** The verified access-token claims tsoa puts on `request.user`. Add your custom claims here. */
export interface User {
  sub: string;
  scope?: string | string[];
  permissions?: string[];
  [claim: string]: unknown;
}

/** Any JSON object. */
export interface DataInput {
  [key: string]: unknown;
}

@Route('api')
@Tags('Protected')
export class PrivateController extends Controller {
  /** Any valid access token. Returns who called. */
  @Get('private')
  @Security('auth0')
  public getPrivate(@Request() request: ExpressRequest): { user: string } {
    const { claims } = getAuth(request); // typed claims; getAuth<MyClaims>(request) for custom ones
    return { user: claims.sub };
  }

  /** Any valid access token; the claims are not used. */
  @Get('protected')
  @Security('auth0')
  public getProtected(): { message: string } {
    return { message: 'You are authenticated.' };
  }

  /** Any valid access token. Returns the subject and the scope claim. */
  @Get('profile')
  @Security('auth0')
  public getProfile(@RequestProp('user') user: User): { sub: string; scope: string | string[] | null } {
    return { sub: user.sub, scope: user.scope ?? null };
  }

  /** Requires the `read:messages` scope. */
  @Get('messages')
  @Security('auth0', ['read:messages'])
  public getMessages(): { messages: Array<{ id: number; text: string }> } {
    return {
      messages: [
        { id: 1, text: 'Hello, world' },
        { id: 2, text: 'Scopes are checked' },
      ],
    };
  }

  /** Requires both `read:data` and `write:data`. The JSON body is optional. */
  @Post('data')
  @Security('auth0', ['read:data', 'write:data'])
  @SuccessResponse(200, 'Created')
  public postData(@Body() _body?: DataInput): { created: boolean } {
    return { created: true };
  }
}
