import { Controller, Get, Request, Route, Security, Tags } from '@tsoa/runtime';
import type { Request as ExpressRequest } from 'express';
import { getAuth } from '../../express/index.js';

/** One payment of the demo's fixed list. */
export interface Payment {
  id: string;
  amount: number;
  currency: string;
}

@Route('api')
@Tags('Step-up authentication')
export class PaymentsController extends Controller {
  /**
   * Requires the `read:data` scope and a multi-factor sign-in within the last 300 seconds (policy `recentMfa`,
   * RFC 9470): otherwise 401 `insufficient_user_authentication` with `acr_values` and `max_age` in the challenge.
   */
  @Get('payments')
  @Security('recentMfa', ['read:data'])
  public getPayments(@Request() request: ExpressRequest): { user: string; payments: Payment[] } {
    return {
      user: getAuth(request).claims.sub,
      payments: [
        { id: 'pay_1', amount: 4200, currency: 'EUR' },
        { id: 'pay_2', amount: 1250, currency: 'EUR' },
      ],
    };
  }
}
