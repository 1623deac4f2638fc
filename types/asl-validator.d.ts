declare module 'asl-validator' {
  interface AslValidatorOptions {
    /** Check JSONPath expressions (InputPath, ResultPath, `.$` fields…). @default true */
    checkPaths?: boolean;
    /** Check that every Task Resource is an ARN (not a `${Placeholder}`). @default true */
    checkArn?: boolean;
  }

  interface AslValidationError {
    'Error code': string;
    Message: string;
  }

  interface AslValidationResult {
    isValid: boolean;
    errors: AslValidationError[];
    errorsText(separator?: string): string;
  }

  /** Validates an Amazon States Language document. It mutates it (adds QueryLanguage to states): pass a copy. */
  function aslValidator(definition: object, options?: AslValidatorOptions): AslValidationResult;
  export = aslValidator;
}
