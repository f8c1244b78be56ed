import { Controller, Get, Route, Tags } from '@tsoa/runtime';

@Route('api')
@Tags('Public')
export class PublicController extends Controller {
  /** Anyone can call this route: no token needed. */
  @Get('public')
  public getPublic(): { message: string } {
    return { message: 'Hello from a public endpoint! No authentication needed.' };
  }
}
